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
  for (const auto& [culprit, proof] : defence_.proofs) {
    uint64_t& at = defence_.proof_attached_at[culprit];
    if (at != 0 && proposer_.next_seq < at + config_.window) continue;
    at = proposer_.next_seq;
    *batch.add_proofs() = proof;
  }
  // One complaint certificate per proposal, about a view already left.
  auto cert = defence_.complaint_certs.begin();
  if (cert != defence_.complaint_certs.end() && cert->first < view_) {
    for (const MessagePtr& c : cert->second) *batch.add_complaints() = c->env;
    defence_.complaint_certs.erase(cert);
  }
}

bool PbftReplica::ValidAccusations(const wire::Batch& batch, OpCounts& ops) const {
  if (batch.proofs().empty() && batch.complaints().empty()) return true;
  if (!config_.defend || batch.proofs_size() > static_cast<int>(members_.size())) return false;
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
  if (defence_.barred.contains(leader) || defence_.proofs.contains(leader)) return;
  wire::MisbehaviourProof proof;
  proof.set_replica(leader);
  *proof.mutable_first() = HeaderOf(*slot.pre_prepare);
  *proof.mutable_second() = HeaderOfPrepare(*prepare, leader);
  if (!CheckHeader(proof.second(), identity_, out.ops)) return;  // the voter's claim, not the leader's word
  HoldProof(now, std::move(proof), out);
}

void PbftReplica::CheckCommitConflict(TimeNs now, const Slot& slot, const MessagePtr& commit, Effects& out) {
  if (!config_.defend || defence_.barred.contains(commit->sender) || defence_.proofs.contains(commit->sender)) return;
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
  if (defence_.barred.contains(culprit) || defence_.proofs.contains(culprit)) return;
  wire::Envelope env;
  *env.mutable_accusation()->mutable_proof() = proof;
  env.mutable_accusation()->set_replica(identity_.self());
  out.Send(Seal(std::move(env), identity_, Auth::MacGroup(&config_.members), out.ops), kToGroup);
  defence_.proofs.emplace(culprit, std::move(proof));
  // A proven equivocator does not keep the lead until the request timer runs out.
  if (!view_changing_ && config_.members[PrimaryOf(view_)] == culprit) {
    ++rep_.equivocations_seen;
    StartViewChange(now, view_ + 1, out);
  }
}

void PbftReplica::OnAccusation(const MessagePtr& m, Effects& out) {
  const wire::Accusation& a = m->env.accusation();
  if (!config_.defend || members_.Of(m->sender) < 0 || a.replica() != m->sender ||
      !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  const NodeId culprit = a.proof().replica();
  if (defence_.barred.contains(culprit) || defence_.proofs.contains(culprit)) return;
  if (CheckProof(a.proof(), config_.members, identity_, out.ops) < 0) {
    ++out.rejected;
    return;
  }
  // (No view change here: the members that saw the conflict start it; we join on f+1.)
  defence_.proofs.emplace(culprit, a.proof());
}

void PbftReplica::Complain(TimeNs now, uint64_t round, uint32_t lag_ms, Effects& out) {
  SendComplaint(round, lag_ms, out);
  Settle(now, out);
}

void PbftReplica::SendComplaint(uint64_t round, uint32_t lag_ms, Effects& out) {
  if (!config_.defend || view_changing_ || !InCommittee() || IsPrimary() || !defence_.complained.insert(view_).second)
    return;
  while (defence_.complained.size() > kMaxComplaintViews) defence_.complained.erase(defence_.complained.begin());
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
  ++defence_.complaints_sent;
  defence_.complaints[view_][config_.self_index] = m;
  CountComplaints(out);
}

void PbftReplica::OnComplaint(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::Complaint& c = m->env.complaint();
  const int index = members_.Of(m->sender);
  if (!config_.defend || index < 0 || c.replica() != m->sender || c.cluster() != config_.cluster ||
      c.accused() >= members_.size() || !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  if (c.view() < view_ || c.view() >= view_ + kMaxComplaintViews) return;  // old news, or too far ahead
  defence_.complaints[c.view()].try_emplace(static_cast<uint32_t>(index), m);
  CountComplaints(out);
}

// f+1 committee members complain about the leader of our view: change it, and keep the
// complaints for the next leader to commit.
void PbftReplica::CountComplaints(Effects& out) {
  defence_.complaints.erase(defence_.complaints.begin(),
                            defence_.complaints.lower_bound(view_ > 0 && view_changing_ ? view_ - 1 : view_));
  auto it = defence_.complaints.find(view_);
  if (it == defence_.complaints.end() || view_changing_ || defence_.complaint_certs.contains(view_)) return;
  const RoleEpoch& roles = CurrentRoles();
  const uint32_t leader = PrimaryOf(view_);
  std::vector<MessagePtr> cert;
  for (const auto& [index, m] : it->second) {
    if (roles.Votes(index) && index != leader && m->env.complaint().accused() == leader) cert.push_back(m);
  }
  if (cert.size() < config_.f + 1) return;
  cert.resize(config_.f + 1);
  defence_.complaint_certs[view_] = std::move(cert);
  while (defence_.complaint_certs.size() > kMaxComplaintViews)
    defence_.complaint_certs.erase(defence_.complaint_certs.begin());
  RequestViewChange(view_ + 1);
}

void PbftReplica::NoteDecided(TimeNs now, uint64_t seq, const Slot& slot, Effects& out) {
  if (!InCommittee() || Leads(seq, view_)) return;
  const uint32_t leader = LeaderOf(seq, view_);
  if (slot.commits.Has(leader)) return SampleLeaderLag(now, seq, 0, out);
  defence_.decided_at[seq] = now;
  while (defence_.decided_at.size() > config_.window) defence_.decided_at.erase(defence_.decided_at.begin());
}

void PbftReplica::NoteLeaderCommit(TimeNs now, const MessagePtr& m, bool authenticated, Effects& out) {
  auto it = defence_.decided_at.find(m->seq);
  if (it == defence_.decided_at.end() || m->view != view_ || view_changing_ ||
      m->sender != config_.members[LeaderOf(m->seq, view_)] || m->voter != m->sender) {
    return;
  }
  if (!authenticated && !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  const TimeNs lag = now - it->second;
  const uint64_t seq = it->first;
  defence_.decided_at.erase(it);
  SampleLeaderLag(now, seq, lag, out);
}

void PbftReplica::SampleLeaderLag(TimeNs now, uint64_t seq, TimeNs lag, Effects& out) {
  if (defence_.leader_lag_view != view_) defence_.leader_lags.clear(), defence_.leader_lag_view = view_;
  defence_.leader_lags.push_back(lag);
  // A repaired loss delays the leader's COMMITs of a burst of slots at once (found at 2% loss), a
  // slow machine delays all of them: the median over many slots tells them apart.
  const size_t k = std::max<uint32_t>(1, config_.complaint_commit_slots);
  while (defence_.leader_lags.size() > k) defence_.leader_lags.pop_front();
  if (defence_.leader_lags.size() < k) return;
  const TimeNs median = UpperMedian({defence_.leader_lags.begin(), defence_.leader_lags.end()});
  if (median > config_.complaint_commit_lag) SendComplaint(seq, static_cast<uint32_t>(median / kMillisecond), out);
}

}  // namespace geopbft
