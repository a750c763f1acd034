#include "protocol/pbft_replica.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "protocol/quorum.h"

namespace geopbft {

bool PbftVoteSet::Mark(uint32_t index) {
  size_t word = index / 64;
  if (word >= seen.size()) seen.resize(word + 1, 0);
  uint64_t bit = uint64_t{1} << (index % 64);
  if (seen[word] & bit) return false;
  seen[word] |= bit;
  return true;
}

bool PbftVoteSet::Has(uint32_t index) const {
  size_t word = index / 64;
  return word < seen.size() && (seen[word] >> (index % 64)) & 1;
}

void PbftReplica::ClientRecord::Record(uint64_t ts, uint64_t result) {
  above.insert(ts);
  while (!above.empty() && *above.begin() == low + 1) {
    above.erase(above.begin());
    ++low;
  }
  results[ts] = result;
  // Keep the results of the most recent requests only: memory stays bounded per client.
  constexpr size_t kKeptResults = 1024;
  while (results.size() > kKeptResults) results.erase(results.begin());
}

PbftReplica::PbftReplica(PbftConfig config, Identity identity)
    : config_(std::move(config)), identity_(identity) {
  for (uint32_t i = 0; i < config_.members.size(); ++i) index_of_[config_.members[i]] = i;
}

int PbftReplica::IndexOf(NodeId node) const {
  auto it = index_of_.find(node);
  return it == index_of_.end() ? -1 : static_cast<int>(it->second);
}

PbftSlot& PbftReplica::SlotFor(uint64_t seq) { return log_[seq]; }

void PbftReplica::Step(TimeNs now, const Input& in, Effects& out) {
  switch (in.kind) {
    case Input::Kind::kStart:
    case Input::Kind::kSubmit:
      return;
    case Input::Kind::kTimer:
      return OnTimer(now, in.timer, out);
    case Input::Kind::kMessage:
      break;
  }
  const MessagePtr& m = in.msg;
  switch (m->type) {
    case MsgType::kRequest: return OnRequest(now, m, out);
    case MsgType::kPrePrepare: return OnPrePrepare(now, m, out);
    case MsgType::kPrepare:
    case MsgType::kCommit: return OnVote(now, m, out);
    case MsgType::kReply:
    case MsgType::BODY_NOT_SET: break;
  }
  ++out.rejected;  // not a message a replica handles
}

void PbftReplica::OnRequest(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::Request& req = m->env.request();
  if (req.client() != m->sender || IndexOf(m->sender) >= 0 ||
      !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  auto rec = clients_.find(req.client());
  if (rec != clients_.end() && rec->second.Executed(req.timestamp())) {
    // Already executed: the client lost our reply; send it again if we still have it.
    auto result = rec->second.results.find(req.timestamp());
    if (result != rec->second.results.end()) {
      SendReply(req.client(), req.timestamp(), result->second, out);
    }
    return;
  }
  if (!IsPrimary()) {
    // A client re-sent to everyone: make sure the primary has it.
    out.Send(m, primary());
    return;
  }
  if (!in_flight_.insert({req.client(), req.timestamp()}).second) return;  // duplicate
  pending_.push_back(m);
  TryPropose(now, out);
}

void PbftReplica::TryPropose(TimeNs now, Effects& out) {
  if (!IsPrimary()) return;
  while (!pending_.empty() && next_seq_ < last_executed_ + config_.window) {
    if (pending_.size() < config_.batch_size && !batch_due_) break;
    size_t take = std::min<size_t>(config_.batch_size, pending_.size());
    std::vector<MessagePtr> batch(pending_.begin(), pending_.begin() + take);
    pending_.erase(pending_.begin(), pending_.begin() + take);
    uint64_t seq = ++next_seq_;
    MessagePtr pp = SealPrePrepare(view_, seq, batch, identity_, &config_.members, out.ops);
    out.Send(pp, kToGroup);
    batch_due_ = false;
    Slot& slot = SlotFor(seq);
    slot.pre_prepare = pp;
    slot.digest = pp->batch_digest;
    Advance(seq, slot, now, out);
  }
  if (pending_.empty()) {
    if (batch_timer_armed_) out.CancelTimer(kBatchTimer);
    batch_timer_armed_ = false;
    batch_due_ = false;
  } else if (!batch_timer_armed_ && !batch_due_) {
    out.SetTimer(kBatchTimer, now + config_.batch_timeout);
    batch_timer_armed_ = true;
  }
}

void PbftReplica::OnTimer(TimeNs now, uint64_t id, Effects& out) {
  if (id != kBatchTimer) return;
  batch_timer_armed_ = false;
  batch_due_ = true;
  TryPropose(now, out);
}

void PbftReplica::OnPrePrepare(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::PrePrepare& pp = m->env.pre_prepare();
  if (pp.view() != view_ || !InWindow(pp.seq())) return;  // stale or not for this view
  if (m->sender != primary() || IsPrimary() || !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  // The batch must hash to the announced digest and every request must be signed by its client.
  out.ops.hashed_bytes += m->payload_bytes;
  if (Digest::FromBytes(pp.digest()) != m->batch_digest ||
      m->request_digests.size() != static_cast<size_t>(pp.batch().requests_size())) {
    ++out.rejected;
    return;
  }
  for (int i = 0; i < pp.batch().requests_size(); ++i) {
    const wire::SignedRequest& r = pp.batch().requests(i);
    ++out.ops.verifies;
    if (IndexOf(r.request().client()) >= 0 ||
        !identity_.Verify(r.request().client(), m->request_digests[i], r.signature())) {
      ++out.rejected;
      return;
    }
  }
  Slot& slot = SlotFor(pp.seq());
  if (slot.pre_prepare) {
    if (slot.digest != m->batch_digest) ++out.rejected;  // conflicting proposal: keep the first
    return;
  }
  slot.pre_prepare = m;
  slot.digest = m->batch_digest;
  // Votes that overtook the PRE-PREPARE now count for or against its digest.
  for (VoteSet* votes : {&slot.prepares, &slot.commits}) {
    for (const auto& [index, d] : votes->early) (d == slot.digest ? votes->matching : votes->conflicting)++;
    votes->early.clear();
    votes->early.shrink_to_fit();
  }
  wire::Envelope env;
  wire::Prepare* p = env.mutable_prepare();
  p->set_view(view_);
  p->set_seq(pp.seq());
  p->set_digest(pp.digest());
  p->set_replica(identity_.self());
  out.Send(Seal(std::move(env), identity_, Auth::MacGroup(&config_.members), out.ops), kToGroup);
  slot.prepares.Mark(config_.self_index);
  ++slot.prepares.matching;
  Advance(pp.seq(), slot, now, out);
}

void PbftReplica::Vote(VoteSet& votes, uint32_t index, const Digest& d, const Slot& slot) {
  if (!votes.Mark(index)) return;
  if (!slot.pre_prepare) {
    votes.early.push_back({index, d});
  } else if (d == slot.digest) {
    ++votes.matching;
  } else {
    ++votes.conflicting;
  }
}

void PbftReplica::OnVote(TimeNs now, const MessagePtr& m, Effects& out) {
  bool is_prepare = m->type == MsgType::kPrepare;
  uint64_t view = is_prepare ? m->env.prepare().view() : m->env.commit().view();
  uint64_t seq = is_prepare ? m->env.prepare().seq() : m->env.commit().seq();
  uint32_t replica = is_prepare ? m->env.prepare().replica() : m->env.commit().replica();
  // Late votes (for executed sequence numbers) and votes of other views are normal; ignore them.
  if (view != view_ || !InWindow(seq)) return;
  int index = IndexOf(m->sender);
  // The primary proposes; it never sends PREPAREs.
  if (index < 0 || replica != m->sender ||
      (is_prepare && static_cast<uint32_t>(index) == primary_index()) ||
      !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  const std::string& digest = is_prepare ? m->env.prepare().digest() : m->env.commit().digest();
  Slot& slot = SlotFor(seq);
  Vote(is_prepare ? slot.prepares : slot.commits, index, Digest::FromBytes(digest), slot);
  Advance(seq, slot, now, out);
}

// Moves a slot as far as its votes allow: prepared -> send COMMIT; committed -> execute.
void PbftReplica::Advance(uint64_t seq, Slot& slot, TimeNs now, Effects& out) {
  if (!slot.pre_prepare) return;
  bool prepared = slot.prepares.matching >= PrepareQuorum(config_.f);
  if (prepared && !slot.commit_sent) {
    slot.commit_sent = true;
    wire::Envelope env;
    wire::Commit* c = env.mutable_commit();
    c->set_view(view_);
    c->set_seq(seq);
    c->set_digest(std::string(slot.digest.view()));
    c->set_replica(identity_.self());
    // Evidence: which members' PREPAREs for this digest we saw (bit i = member i).
    std::string bitmap((config_.members.size() + 7) / 8, '\0');
    for (uint32_t i = 0; i < config_.members.size(); ++i) {
      if (slot.prepares.Has(i)) bitmap[i / 8] = static_cast<char>(bitmap[i / 8] | (1 << (i % 8)));
    }
    c->set_prepare_evidence(std::move(bitmap));
    out.Send(Seal(std::move(env), identity_, Auth::Signature(), out.ops), kToGroup);
    slot.commits.Mark(config_.self_index);
    ++slot.commits.matching;
  }
  if (prepared && !slot.committed && slot.commits.matching >= CommitQuorum(config_.f)) {
    slot.committed = true;
    TryExecute(now, out);
  }
}

void PbftReplica::TryExecute(TimeNs now, Effects& out) {
  bool executed_any = false;
  for (auto it = log_.begin(); it != log_.end() && it->first == last_executed_ + 1 &&
                               it->second.committed;
       it = log_.erase(it)) {
    const Slot& slot = it->second;
    const wire::PrePrepare& pp = slot.pre_prepare->env.pre_prepare();
    Execution ex{it->first, view_, slot.digest, 0};
    for (const wire::SignedRequest& sr : pp.batch().requests()) {
      const wire::Request& r = sr.request();
      ClientRecord& rec = clients_[r.client()];
      if (rec.Executed(r.timestamp())) continue;  // executed before: at most once
      // The state machine's result: a deterministic function of the operation and its position.
      uint64_t result = Mix64(it->first ^ Mix64((uint64_t{r.client()} << 40) ^ r.timestamp()));
      rec.Record(r.timestamp(), result);
      ++ex.requests;
      in_flight_.erase({r.client(), r.timestamp()});
      SendReply(r.client(), r.timestamp(), result, out);
    }
    out.executed.push_back(ex);
    ++last_executed_;
    executed_any = true;
  }
  if (executed_any) TryPropose(now, out);  // the window moved
}

void PbftReplica::SendReply(NodeId client, uint64_t timestamp, uint64_t result, Effects& out) {
  wire::Envelope env;
  wire::Reply* r = env.mutable_reply();
  r->set_view(view_);
  r->set_client(client);
  r->set_timestamp(timestamp);
  r->set_replica(identity_.self());
  r->set_result(result);
  out.Send(Seal(std::move(env), identity_, Auth::MacTo(client), out.ops), client);
}

std::string PbftReplica::Describe() const {
  std::string s = absl::StrFormat("view %d executed %d %s", view_, last_executed_,
                                  IsPrimary() ? "primary" : "backup");
  if (IsPrimary()) {
    absl::StrAppendFormat(&s, " proposed %d pending %d", next_seq_, pending_.size());
  }
  uint64_t next = last_executed_ + 1;
  auto it = log_.find(next);
  uint32_t f = config_.f;
  if (it == log_.end() || !it->second.pre_prepare) {
    uint32_t prepares = it == log_.end() ? 0 : static_cast<uint32_t>(it->second.prepares.early.size());
    absl::StrAppendFormat(&s, " seq %d phase idle waiting for PRE-PREPARE from replica %d",
                          next, primary());
    if (prepares) absl::StrAppendFormat(&s, " (holds %d early PREPAREs)", prepares);
  } else if (!it->second.commit_sent) {
    absl::StrAppendFormat(&s, " seq %d phase pre-prepared waiting for PREPAREs (%d of %d)", next,
                          it->second.prepares.matching, PrepareQuorum(f));
  } else {
    absl::StrAppendFormat(&s, " seq %d phase prepared waiting for COMMITs (%d of %d)", next,
                          it->second.commits.matching, CommitQuorum(f));
  }
  return s;
}

}  // namespace geopbft
