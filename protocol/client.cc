#include "protocol/client.h"

#include <algorithm>

#include "protocol/quorum.h"

namespace geopbft {

Client::Client(ClientConfig config, Identity identity)
    : config_(std::move(config)), identity_(identity) {}

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
  wire::Envelope env;
  wire::Request* r = env.mutable_request();
  r->set_client(identity_.self());
  r->set_timestamp(ts);
  r->set_payload_size(config_.payload_size);
  MessagePtr m = Seal(std::move(env), identity_, Auth::Signature(), out.ops);
  Pending& p = pending_[ts];
  p.submitted = now;
  p.timeout = config_.retransmit_timeout;
  p.request = m;
  out.Send(m, config_.replicas[known_view_ % config_.replicas.size()]);
  out.SetTimer(ts, now + p.timeout);
}

void Client::OnReply(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::Reply& r = m->env.reply();
  auto member = std::find(config_.replicas.begin(), config_.replicas.end(), m->sender);
  if (member == config_.replicas.end() || r.replica() != m->sender ||
      r.client() != identity_.self() || !CheckAuth(*m, identity_, 0, out.ops)) {
    ++out.rejected;
    return;
  }
  auto it = pending_.find(r.timestamp());
  if (it == pending_.end()) return;  // already accepted (late replies are normal)
  Pending& p = it->second;
  uint32_t index = static_cast<uint32_t>(member - config_.replicas.begin());
  for (const auto& [who, result] : p.replies) {
    if (who == index) return;  // one vote per replica
  }
  p.replies.push_back({index, r.result()});
  uint32_t matching = 0;
  for (const auto& [who, result] : p.replies) matching += result == r.result();
  if (matching < ReplyQuorum(config_.f)) return;

  known_view_ = std::max(known_view_, r.view());
  out.completions.push_back({r.timestamp(), p.submitted, now});
  out.CancelTimer(r.timestamp());
  pending_.erase(it);
  ++completed_;
  if (config_.mode == LoadMode::kClosedLoop ||
      (config_.mode == LoadMode::kFixedCount && next_timestamp_ < config_.count)) {
    Submit(now, out);
  }
}

void Client::OnTimer(TimeNs now, uint64_t timestamp, Effects& out) {
  auto it = pending_.find(timestamp);
  if (it == pending_.end()) return;
  Pending& p = it->second;
  // The primary may be faulty or the request lost: ask every replica.
  for (NodeId replica : config_.replicas) out.Send(p.request, replica);
  p.timeout = std::min(p.timeout * 2, config_.retransmit_timeout * 8);
  out.SetTimer(timestamp, now + p.timeout);
}

}  // namespace geopbft
