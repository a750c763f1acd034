#include "protocol/client.h"

#include <algorithm>

#include "protocol/quorum.h"

namespace geopbft {

Client::Client(ClientConfig config, Identity identity) : config_(std::move(config)), identity_(identity) {}

void Client::Step(TimeNs now, const Input& in, Effects& out) {
  switch (in.kind) {
    case Input::Kind::kStart: {
      uint64_t initial = 0;
      if (config_.mode == LoadMode::kClosedLoop) initial = config_.outstanding;
      if (config_.mode == LoadMode::kFixedCount) initial = std::min<uint64_t>(1, config_.count);
      for (uint64_t i = 0; i < initial; ++i) Submit(now, out);
      return;
    }
    case Input::Kind::kSubmit:
      return Submit(now, out);
    case Input::Kind::kTimer:
      return OnTimer(now, in.timer, out);
    case Input::Kind::kMessage:
      if (in.msg->type == MsgType::kReply) return OnReply(now, in.msg, out);
      ++out.rejected;
      return;
  }
}

void Client::Submit(TimeNs now, Effects& out) {
  uint64_t ts = ++next_timestamp_;
  NewMessage built = MakeRequestMessage();
  wire::Request* r = built.m->env.mutable_request();
  r->set_client(identity_.self());
  r->set_timestamp(ts);
  r->set_payload_size(config_.payload_size);
  // Report on the oldest accepted request whose grace period is over (late replies had their chance).
  if (config_.reply_evidence && !answered_order_.empty()) {
    const uint64_t oldest_ts = answered_order_.front();
    Answered& oldest = *answered_.Find(oldest_ts);
    if (oldest.accepted + config_.reply_grace <= now) {
      r->set_answered_ts(oldest_ts);
      r->set_answered(std::move(oldest.bitmap));
      answered_.Erase(oldest_ts);
      answered_order_.pop_front();
    }
  }
  MessagePtr m = Seal(std::move(built), identity_, Auth::Signature(), out.ops);
  Pending& p = pending_.Insert(ts);
  p.submitted = now;
  p.timeout = config_.retransmit_timeout;
  p.request = m;
  out.Send(m, config_.replicas[known_view_ % config_.replicas.size()]);
  out.SetTimer(ts, now + p.timeout);
}

void Client::OnReply(TimeNs now, const MessagePtr& m, Effects& out) {
  // The reply as its header holds it (decoded once, in the message's first line: see Message):
  // timestamp and view in seq and view.
  const uint64_t timestamp = m->seq, result = m->reply_result;
  auto member = std::find(config_.replicas.begin(), config_.replicas.end(), m->sender);
  if (member == config_.replicas.end() || !m->reply_from_sender || m->reply_client != identity_.self() ||
      !CheckAuth(*m, identity_, 0, out.ops)) {
    ++out.rejected;
    return;
  }
  uint32_t index = static_cast<uint32_t>(member - config_.replicas.begin());
  Pending* found = pending_.Find(timestamp);
  if (found == nullptr) {
    NoteAnswer(now, timestamp, index, result);  // already accepted (late replies are normal)
    return;
  }
  Pending& p = *found;
  for (const auto& [who, said] : p.replies) {
    if (who == index) return;  // one vote per replica
  }
  p.replies.push_back({index, result});
  uint32_t matching = 0;
  for (const auto& [who, said] : p.replies) matching += said == result;
  if (matching < ReplyQuorum(config_.f)) return;

  known_view_ = std::max(known_view_, m->view);
  // Watch a bounded number of accepted requests: when full, new ones go unwatched until reports
  // drain it (one per new request), so reports keep flowing at any load.
  constexpr size_t kMaxWatched = 1024;
  if (config_.reply_evidence && answered_.size() < kMaxWatched) {
    Answered a{timestamp, result, now, std::string((config_.replicas.size() + 7) / 8, '\0')};
    for (const auto& [who, said] : p.replies) {
      if (said == result) a.bitmap[who / 8] = static_cast<char>(a.bitmap[who / 8] | (1 << (who % 8)));
    }
    answered_order_.push_back(a.timestamp);
    answered_.Insert(a.timestamp) = std::move(a);
  }
  out.completions.push_back({timestamp, p.submitted, now, result});
  out.CancelTimer(timestamp);
  pending_.Erase(timestamp);
  ++completed_;
  if (config_.mode == LoadMode::kClosedLoop ||
      (config_.mode == LoadMode::kFixedCount && next_timestamp_ < config_.count)) {
    Submit(now, out);
  }
}

void Client::NoteAnswer(TimeNs now, uint64_t timestamp, uint32_t index, uint64_t result) {
  Answered* found = answered_.Find(timestamp);
  if (found == nullptr) return;
  Answered& a = *found;
  if (result == a.result && now <= a.accepted + config_.reply_grace) {
    a.bitmap[index / 8] = static_cast<char>(a.bitmap[index / 8] | (1 << (index % 8)));
  }
}

void Client::OnTimer(TimeNs now, uint64_t timestamp, Effects& out) {
  Pending* found = pending_.Find(timestamp);
  if (found == nullptr) return;
  Pending& p = *found;
  // The primary may be faulty or the request lost: ask every replica.
  for (NodeId replica : config_.replicas) out.Send(p.request, replica);
  p.timeout = std::min(p.timeout * 2, config_.retransmit_timeout * 8);
  out.SetTimer(timestamp, now + p.timeout);
}

}  // namespace geopbft
