// The PBFT side of reputation: roles that change between sequence numbers, and the vote evidence
// proposals carry.
//
// Roles (committee and leader) come from the global layer, computed from committed scores, as a
// RoleSchedule epoch that applies from a given sequence number on. A replica that has not computed
// the roles of a sequence number yet keeps its PRE-PREPARE aside and counts no quorum for it.
//
// Evidence: the leader attaches to each proposal the signed COMMITs it received for sequence
// numbers it has executed since its previous proposal. Each COMMIT lists the PREPAREs its sender saw,
// so the evidence shows who voted, who did not and who voted for another digest; nobody can forge it
// (every COMMIT is signed by its sender) and a backup refuses a proposal whose evidence does not check.
#include <algorithm>

#include "protocol/pbft_replica.h"
#include "protocol/quorum.h"

namespace geopbft {
namespace {
constexpr int kMaxEvidenceRecords = 8;  // per proposal; older unreported sequence numbers go unscored
}  // namespace

void PbftReplica::InstallRoles(TimeNs now, RoleEpoch e, uint64_t known_until, Effects& out) {
  roles_.Add(std::move(e));
  roles_.set_known_until(known_until);
  roles_.ForgetBelow(std::min(ckpt_.stable_seq, last_executed_) + 1);
  // Proposals that waited for these roles.
  while (!rep_.future_proposals.empty() && roles_.Known(rep_.future_proposals.begin()->first)) {
    MessagePtr pp = rep_.future_proposals.begin()->second;
    rep_.future_proposals.erase(rep_.future_proposals.begin());
    OnPrePrepare(now, pp, out);
  }
  // Votes that waited for these roles (Advance may execute and garbage-collect: look slots up anew).
  std::vector<uint64_t> waiting;
  for (auto it = log_.upper_bound(last_executed_); it != log_.end() && roles_.Known(it->first); ++it) {
    waiting.push_back(it->first);
  }
  for (uint64_t seq : waiting) {
    auto it = log_.find(seq);
    if (it != log_.end()) Advance(seq, it->second, now, out);
  }
  work_.propose = true;
  Settle(now, out);
}

// A leader whose turn is over (the next sequence number belongs to another) passes its pending
// requests to the new leader; they become requests it waits for, like any backup's.
void PbftReplica::HandOver(TimeNs now, Effects& out) {
  if (proposer_.pending.empty() || !roles_.Known(proposer_.next_seq + 1)) return;
  for (const MessagePtr& r : proposer_.pending) {
    const wire::Request& req = r->env.request();
    proposer_.in_flight.erase({req.client(), req.timestamp()});
    if (vc_.waiting.try_emplace({req.client(), req.timestamp()}, r).second) out.Send(r, primary());
  }
  proposer_.pending.clear();
  timers_.Cancel(kBatchTimer, out);
  proposer_.batch_due = false;
  StartWaiting(now, out);
}

void PbftReplica::AttachEvidence(wire::Batch& batch) {
  if (!config_.vote_evidence) return;
  batch.set_proposer_view(view_);
  uint64_t from = std::max(rep_.reported_upto + 1,
                           last_executed_ >= kMaxEvidenceRecords ? last_executed_ - kMaxEvidenceRecords + 1 : 1);
  for (uint64_t seq = from; seq <= last_executed_; ++seq) {
    rep_.reported_upto = seq;
    auto it = log_.find(seq);
    if (it == log_.end() || !it->second.committed || !it->second.pre_prepare) continue;
    const PbftSlot& slot = it->second;
    wire::VoteEvidence* ev = batch.add_evidence();
    ev->set_seq(seq);
    ev->set_view(slot.view);
    ev->set_digest(std::string(slot.digest.view()));
    if (slot.own_commit) *ev->add_commits() = slot.own_commit->env;
    for (const MessagePtr& c : slot.commit_msgs) {
      if (c->env.commit().view() == slot.view) *ev->add_commits() = c->env;
    }
  }
  AttachAccusations(batch);
}

bool PbftReplica::ValidEvidence(const Message& m, OpCounts& ops) const {
  const wire::PrePrepare& pp = m.env.pre_prepare();
  const auto& evidence = pp.batch().evidence();
  if (evidence.size() > kMaxEvidenceRecords) return false;
  uint64_t previous = 0;
  uint32_t known = 0;  // COMMITs we hold ourselves, byte for byte: verified when they came
  for (const wire::VoteEvidence& ev : evidence) {
    if (ev.seq() <= previous || ev.seq() >= pp.seq() || !roles_.Known(ev.seq()) || ev.digest().size() != 32)
      return false;
    previous = ev.seq();
    const RoleEpoch& roles = roles_.At(ev.seq());
    std::vector<uint64_t> signers, matching;
    for (const wire::Envelope& e : ev.commits()) {
      if (e.body_case() != wire::Envelope::kCommit) return false;
      const wire::Commit& c = e.commit();
      int index = members_.Of(e.sender());
      if (index < 0 || c.replica() != e.sender() || c.seq() != ev.seq() || c.view() != ev.view()) return false;
      uint32_t i = static_cast<uint32_t>(index);
      if (signers.size() <= i / 64) signers.resize(i / 64 + 1, 0), matching.resize(i / 64 + 1, 0);
      if (signers[i / 64] & (uint64_t{1} << (i % 64))) return false;  // one COMMIT per member
      signers[i / 64] |= uint64_t{1} << (i % 64);
      if (c.digest() == ev.digest()) matching[i / 64] |= uint64_t{1} << (i % 64);
      known += HoldsCommit(e);
    }
    // The record must itself prove the decision: a commit quorum of the committee.
    if (roles.Count(matching) < CommitQuorum(roles.size(), config_.f)) return false;
  }
  return ValidAccusations(pp.batch(), ops) && CheckEmbeddedSignatures(m, identity_, ops, known);
}

// Whether `e` is a COMMIT we received (or sent) ourselves: same body, same signature. A replica
// keeps the signed COMMITs of its slots, so the evidence a proposal carries is mostly votes it
// verified already; a real replica compares them with what it holds instead of verifying again.
bool PbftReplica::HoldsCommit(const wire::Envelope& e) const {
  auto it = log_.find(e.commit().seq());
  if (it == log_.end()) return false;
  const PbftSlot& slot = it->second;
  auto same = [&](const MessagePtr& held) {
    if (!held || held->sender != e.sender()) return false;
    const wire::Commit& a = held->env.commit();
    const wire::Commit& b = e.commit();
    return a.view() == b.view() && a.seq() == b.seq() && a.digest() == b.digest() && a.replica() == b.replica() &&
           a.prepare_evidence() == b.prepare_evidence() && held->env.signature() == e.signature();
  };
  if (same(slot.own_commit)) return true;
  return std::any_of(slot.commit_msgs.begin(), slot.commit_msgs.end(), same);
}

}  // namespace geopbft
