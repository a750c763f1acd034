// Reputation's defence inside a PBFT group (PbftConfig::defend, the default rule only):
//  - proofs: the leader signs each proposal's header; each PREPARE carries the header signature of
//    the proposal it prepares. A member that holds one proposal for a slot and sees a PREPARE
//    vouching for another, signed by the same leader, holds a proof of equivocation; two signed
//    COMMITs of one member for one slot with different digests are one too. The proof is broadcast
//    (ACCUSATION), changes the view at once if it names the leader, and rides in proposals until
//    the global layer reports it committed (NoteBarred);
//  - complaints: the global layer measures the leader's pace and calls Complain; f+1 committee
//    members' complaints against the leader of the current view (one correct member at least)
//    start a view change at every member that holds them, and the next leader commits them.
#include <algorithm>

#include "protocol/misbehaviour.h"
#include "protocol/pbft_replica.h"

namespace geopbft {
namespace {
constexpr size_t kMaxComplaintViews = 8;  // views whose complaints are kept, whatever peers send
}  // namespace

// (Its signature is checked with the message's other embedded signatures, once for all receivers:
// CheckEmbeddedSignatures, through ValidEvidence.)
bool PbftReplica::SignedHeader(const Message& pp) const {
  return !config_.defend || !pp.env.pre_prepare().header_signature().empty();
}

void PbftReplica::AttachAccusations(wire::Batch& batch) {
  if (!config_.defend) return;
  // A proof rides again a window later if it has not been committed by then (its proposal may
  // have been lost to a view change).
  for (const auto& [culprit, proof] : proofs_) {
    uint64_t& at = proof_attached_at_[culprit];
    if (at != 0 && next_seq_ < at + config_.window) continue;
    at = next_seq_;
    *batch.add_proofs() = proof;
  }
  // One complaint certificate per proposal, about a view already left.
  auto cert = complaint_certs_.begin();
  if (cert != complaint_certs_.end() && cert->first < view_) {
    for (const MessagePtr& c : cert->second) *batch.add_complaints() = c->env;
    complaint_certs_.erase(cert);
  }
}

bool PbftReplica::ValidAccusations(const wire::Batch& batch, OpCounts& ops) const {
  if (batch.proofs().empty() && batch.complaints().empty()) return true;
  if (!config_.defend || batch.proofs_size() > static_cast<int>(n_)) return false;
  for (const wire::MisbehaviourProof& p : batch.proofs()) {
    if (CheckProof(p, config_.members, identity_, ops) < 0) return false;
  }
  ComplaintVerdict verdict;
  return CheckComplaints(batch.complaints(), config_.cluster, config_.members, config_.f, identity_, ops, &verdict);
}

void PbftReplica::CheckPrepareConflict(TimeNs now, const Slot& slot, const MessagePtr& prepare, Effects& out) {
  if (!config_.defend || !slot.pre_prepare || prepare->vote_digest == slot.digest ||
      slot.pre_prepare->env.pre_prepare().header_signature().empty() ||
      prepare->env.prepare().leader_signature().empty()) {
    return;
  }
  const NodeId leader = slot.pre_prepare->sender;
  if (barred_.contains(leader) || proofs_.contains(leader)) return;
  wire::MisbehaviourProof proof;
  proof.set_replica(leader);
  *proof.mutable_first() = HeaderOf(*slot.pre_prepare);
  *proof.mutable_second() = HeaderOfPrepare(*prepare, leader);
  if (!CheckHeader(proof.second(), identity_, out.ops)) return;  // the voter's claim, not the leader's word
  HoldProof(now, std::move(proof), out);
}

void PbftReplica::CheckCommitConflict(TimeNs now, const Slot& slot, const MessagePtr& commit, Effects& out) {
  if (!config_.defend || barred_.contains(commit->sender) || proofs_.contains(commit->sender)) return;
  for (const MessagePtr& earlier : slot.commit_msgs) {
    if (earlier->sender != commit->sender || earlier->vote_digest == commit->vote_digest) continue;
    wire::MisbehaviourProof proof;
    proof.set_replica(commit->sender);
    *proof.mutable_first_commit() = earlier->env;
    *proof.mutable_second_commit() = commit->env;
    return HoldProof(now, std::move(proof), out);  // both signatures were checked on receipt
  }
}

void PbftReplica::HoldProof(TimeNs now, wire::MisbehaviourProof proof, Effects& out) {
  const NodeId culprit = proof.replica();
  if (barred_.contains(culprit) || proofs_.contains(culprit)) return;
  wire::Envelope env;
  *env.mutable_accusation()->mutable_proof() = proof;
  env.mutable_accusation()->set_replica(identity_.self());
  out.Send(Seal(std::move(env), identity_, Auth::MacGroup(&config_.members), out.ops), kToGroup);
  proofs_.emplace(culprit, std::move(proof));
  // A proven equivocator does not keep the lead until the request timer runs out.
  if (!view_changing_ && config_.members[PrimaryOf(view_)] == culprit) {
    ++equivocations_seen_;
    StartViewChange(now, view_ + 1, out);
  }
}

void PbftReplica::OnAccusation(const MessagePtr& m, Effects& out) {
  const wire::Accusation& a = m->env.accusation();
  if (!config_.defend || IndexOf(m->sender) < 0 || a.replica() != m->sender ||
      !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  const NodeId culprit = a.proof().replica();
  if (barred_.contains(culprit) || proofs_.contains(culprit)) return;
  if (CheckProof(a.proof(), config_.members, identity_, out.ops) < 0) {
    ++out.rejected;
    return;
  }
  // (No view change here: the members that saw the conflict start it; we join on f+1.)
  proofs_.emplace(culprit, a.proof());
}

void PbftReplica::Complain(TimeNs now, uint64_t round, uint32_t lag_ms, Effects& out) {
  if (!config_.defend || view_changing_ || !InCommittee() || IsPrimary() || !complained_.insert(view_).second) return;
  while (complained_.size() > kMaxComplaintViews) complained_.erase(complained_.begin());
  wire::Envelope env;
  wire::Complaint* c = env.mutable_complaint();
  c->set_cluster(config_.cluster);
  c->set_view(view_);
  c->set_accused(PrimaryOf(view_));
  c->set_replica(identity_.self());
  c->set_round(round);
  c->set_lag_ms(lag_ms);
  MessagePtr m = Seal(std::move(env), identity_, Auth::Signature(), out.ops);
  out.Send(m, kToGroup);
  ++complaints_sent_;
  complaints_[view_][config_.self_index] = m;
  CountComplaints(now, out);
}

void PbftReplica::OnComplaint(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::Complaint& c = m->env.complaint();
  const int index = IndexOf(m->sender);
  if (!config_.defend || index < 0 || c.replica() != m->sender || c.cluster() != config_.cluster || c.accused() >= n_ ||
      !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  if (c.view() < view_ || c.view() >= view_ + kMaxComplaintViews) return;  // old news, or too far ahead
  complaints_[c.view()].try_emplace(static_cast<uint32_t>(index), m);
  CountComplaints(now, out);
}

// f+1 committee members complain about the leader of our view: change it, and keep the
// complaints for the next leader to commit.
void PbftReplica::CountComplaints(TimeNs now, Effects& out) {
  complaints_.erase(complaints_.begin(), complaints_.lower_bound(view_ > 0 && view_changing_ ? view_ - 1 : view_));
  auto it = complaints_.find(view_);
  if (it == complaints_.end() || view_changing_ || complaint_certs_.contains(view_)) return;
  const RoleEpoch& roles = CurrentRoles();
  const uint32_t leader = PrimaryOf(view_);
  std::vector<MessagePtr> cert;
  for (const auto& [index, m] : it->second) {
    if (roles.Votes(index) && index != leader && m->env.complaint().accused() == leader) cert.push_back(m);
  }
  if (cert.size() < config_.f + 1) return;
  cert.resize(config_.f + 1);
  complaint_certs_[view_] = std::move(cert);
  while (complaint_certs_.size() > kMaxComplaintViews) complaint_certs_.erase(complaint_certs_.begin());
  StartViewChange(now, view_ + 1, out);
}

void PbftReplica::NoteDecided(TimeNs now, uint64_t seq, const Slot& slot, Effects& out) {
  if (!InCommittee() || Leads(seq, view_)) return;
  const uint32_t leader = LeaderOf(seq, view_);
  if (slot.commits.Has(leader)) return SampleLeaderLag(now, seq, 0, out);
  decided_at_[seq] = now;
  while (decided_at_.size() > config_.window) decided_at_.erase(decided_at_.begin());
}

void PbftReplica::NoteLeaderCommit(TimeNs now, const MessagePtr& m, bool authenticated, Effects& out) {
  auto it = decided_at_.find(m->seq);
  if (it == decided_at_.end() || m->view != view_ || view_changing_ ||
      m->sender != config_.members[LeaderOf(m->seq, view_)] || m->voter != m->sender) {
    return;
  }
  if (!authenticated && !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  const TimeNs lag = now - it->second;
  const uint64_t seq = it->first;
  decided_at_.erase(it);
  SampleLeaderLag(now, seq, lag, out);
}

void PbftReplica::SampleLeaderLag(TimeNs now, uint64_t seq, TimeNs lag, Effects& out) {
  if (leader_lag_view_ != view_) leader_lags_.clear(), leader_lag_view_ = view_;
  leader_lags_.push_back(lag);
  // A repaired loss delays the leader's COMMITs of a burst of slots at once (found at 2% loss), a
  // slow machine delays all of them: the median over many slots tells them apart.
  const size_t k = std::max<uint32_t>(1, config_.complaint_commit_slots);
  while (leader_lags_.size() > k) leader_lags_.pop_front();
  if (leader_lags_.size() < k) return;
  const TimeNs median = UpperMedian({leader_lags_.begin(), leader_lags_.end()});
  if (median > config_.complaint_commit_lag) Complain(now, seq, static_cast<uint32_t>(median / kMillisecond), out);
}

}  // namespace geopbft
