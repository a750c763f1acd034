// PBFT (Castro & Liskov) replica as a pure state machine: Step(now, input) -> Effects.
//  - normal case: request batching, PRE-PREPARE / PREPARE / COMMIT, in-order execution, replies;
//  - checkpoints every K sequence numbers, stable at 2f+1 signed CHECKPOINTs, watermarks and
//    garbage collection (pbft_checkpoint.cc);
//  - state transfer for a replica that fell below the others' stable checkpoint (same file);
//  - view change driven by request timers with exponential back-off, NEW-VIEW validated by every
//    replica (pbft_view_change.cc; the selection rule is in pbft_certificates.cc).
// Step = the input's handler, then the settle loop (Settle, pbft_replica.cc); state by concern in
// pbft_state.h. The replica never reads a clock, a random source or the network; see
// protocol/effects.h.
#ifndef GEOPBFT_PROTOCOL_PBFT_REPLICA_H_
#define GEOPBFT_PROTOCOL_PBFT_REPLICA_H_

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "protocol/crypto.h"
#include "protocol/effects.h"
#include "protocol/executed_timestamps.h"
#include "protocol/kept_answers.h"
#include "protocol/member_index.h"
#include "protocol/message.h"
#include "protocol/pbft_certificates.h"
#include "protocol/pbft_state.h"
#include "protocol/replica.h"
#include "protocol/role_schedule.h"
#include "protocol/timer_table.h"
#include "protocol/types.h"

namespace geopbft {

struct PbftConfig {
  std::vector<NodeId> members;  // the group, in order; a member's index is its position
  uint32_t self_index = 0;
  uint32_t f = 0;
  uint32_t batch_size = 10;
  TimeNs batch_timeout = kMillisecond;
  uint32_t window = 64;               // watermark window L: sequence numbers above the stable checkpoint
  uint32_t checkpoint_interval = 16;  // K
  TimeNs request_timeout = kSecond;   // view-change timer, doubled on each consecutive view change
  // Legacy behaviour of the original design: accept protocol messages only for the sequence number
  // being worked on (drop the next one's), and no state transfer. Reproduces its slow-node deadlock.
  bool drop_out_of_order = false;
  // COMMITs carry MAC authenticators instead of signatures (flat PBFT as in the paper's
  // implementation; scenario protocol.pbft.vote_auth). Not with defer_execution or vote_evidence:
  // their COMMITs leave the group.
  bool mac_commits = false;
  // TEST ONLY (checks.planted_bug QUORUM_2F): prepare and commit quorums one vote short.
  uint32_t planted_quorum_shortfall = 0;
  // GeoBFT: a committed batch is a local decision (LocalOutcome::decided, with its commit certificate)
  // for the global layer to share and execute; this replica neither executes it nor replies.
  bool defer_execution = false;
  // defer_execution: how many clusters execute rounds together (with `cluster`, the global position
  // of local sequence number s is (s - 1) * global_clusters + cluster + 1).
  uint32_t global_clusters = 0;
  // Reputation: proposals carry the signed COMMITs of earlier sequence numbers as evidence (and the
  // view they were first proposed in); backups check it. Roles come from InstallRoles.
  bool vote_evidence = false;
  // Reputation's defence (the default rule; pbft_defence.cc): proposals carry a signed header,
  // PREPAREs the header signature they vouch for; members turn conflicting signed messages into
  // proofs, and f+1 complaints against the leader into a view change; proposals carry both to be
  // committed. `cluster` names the group in complaints.
  bool defend = false;
  uint32_t cluster = 0;
  uint32_t complaint_commit_slots = 128;            // the leader-pace monitor's median, over this many slots ...
  TimeNs complaint_commit_lag = 40 * kMillisecond;  // ... past which a member complains
};

// Votes of one phase for one sequence number, one per member. Votes are kept per member (not
// counted) because only the members on the sequence number's committee count towards a quorum.
struct PbftVoteSet {
  std::vector<uint64_t> seen;                      // bitset over member indexes
  std::vector<uint64_t> match;                     // ... of those whose vote is for the accepted digest
  std::vector<uint64_t> conflict;                  // ... of those whose vote is for another digest
  std::vector<std::pair<uint32_t, Digest>> early;  // arrived before the PRE-PREPARE
  bool Mark(uint32_t index);                       // false when this member already voted
  bool Has(uint32_t index) const;
  void SetMatch(uint32_t index);
  void SetConflict(uint32_t index);
  bool Matches(uint32_t index) const;
};

// One sequence number of the log.
struct PbftSlot {
  uint64_t view = 0;  // the view the votes below belong to
  MessagePtr pre_prepare;
  Digest digest;
  MessagePtr own_prepare, own_commit;   // kept to resend to a replica that lost them
  std::vector<MessagePtr> commit_msgs;  // signed COMMITs received: forwardable to a replica behind
  PbftVoteSet prepares;
  PbftVoteSet commits;
  bool prepared = false;
  bool commit_sent = false;
  bool committed = false;
  TimeNs proposed_at = 0;  // when the PRE-PREPARE was accepted (the committee's pace monitor)
  // View-change memory (P and Q of the paper): the latest prepared (view, digest, batch) and the
  // digests pre-prepared in each view, kept across views until garbage collection.
  bool has_prepared_claim = false;
  uint64_t prepared_view = 0;
  Digest prepared_digest;
  MessagePtr prepared_batch;                              // the PRE-PREPARE (or NEW-VIEW proposal) whose batch prepared
  std::vector<std::pair<Digest, uint64_t>> pre_prepared;  // (digest, latest view)
  // What we executed at this sequence number (kept across views until garbage collection).
  bool executed = false;
  Digest executed_digest;
};

// The typed channel from a group's PBFT to the layer above it (GeoBFT; PbftConfig::defer_execution):
// what the group decided, and the NEW-VIEWs and certified states installed, since the layer last
// cleared it (at the start of each of its steps).
struct LocalOutcome {
  std::vector<LocalDecision> decided;
  uint32_t views_installed = 0;
  uint64_t state_transferred_to = 0;  // 0: none
};

class PbftReplica : public Replica {
 public:
  // Timer ids this replica sets.
  // Caps of tables a peer (or a long run) could otherwise grow.
  static constexpr size_t kKeptResults = 256;       // results per client, for re-sent requests
  static constexpr size_t kMaxCheckpointSeqs = 64;  // distinct checkpoint sequence numbers remembered
  static constexpr size_t kMaxFutureViews = 8;      // distinct future views whose VIEW-CHANGEs are kept
  static constexpr uint64_t kBatchTimer = 1;
  static constexpr uint64_t kViewChangeTimer = 2;
  static constexpr uint64_t kFetchTimer = 3;
  static constexpr uint64_t kStatusTimer = 4;

  PbftReplica(PbftConfig config, Identity identity);

  void Step(TimeNs now, const Input& in, Effects& out) override;
  Effects Step(TimeNs now, const Input& in) {
    Effects out;
    Step(now, in, out);
    return out;
  }

  NodeId self() const { return identity_.self(); }
  uint64_t view() const override { return view_; }
  bool view_changing() const { return view_changing_; }
  uint64_t view_changes() const { return view_changes_installed_; }
  uint64_t last_executed() const override { return last_executed_; }
  uint64_t stable_checkpoint() const { return ckpt_.stable_seq; }
  // The primary is the leader of the next sequence number to propose (with reputation the leader
  // may change between sequence numbers, at an epoch of the role schedule).
  uint32_t primary_index() const { return LeaderOf(proposer_.next_seq + 1, view_); }
  NodeId primary() const { return config_.members[primary_index()]; }
  bool IsPrimary() const override { return primary_index() == config_.self_index; }
  // Votes on the next sequence number to execute (with reputation: sits on its committee).
  bool InCommittee() const { return roles_.At(last_executed_ + 1).Votes(config_.self_index); }
  const RoleSchedule& roles() const { return roles_; }
  bool Leads(uint64_t seq, uint64_t view) const { return LeaderOf(seq, view) == config_.self_index; }
  size_t pending_requests() const { return proposer_.pending.size(); }
  size_t log_size() const override { return log_.size(); }
  // Everything the replica keeps that could grow with the run (for the memory-bound checks).
  size_t state_entries() const override;
  std::string BoundViolation() const override;
  uint64_t state_transfers() const { return ckpt_.state_transfers; }
  uint64_t equivocations_seen() const { return rep_.equivocations_seen; }
  const Digest& state_chain() const { return chain_; }
  const PbftConfig& config() const { return config_; }

  // The legacy receive path (protocol.pbft.drop_out_of_order): the original design handled each
  // message on arrival, concurrently with its consensus work, and dropped protocol messages that
  // were not for the (view, sequence) it was still working on. The simulator asks this when a
  // message arrives, before it waits for the CPU; true means the message is dropped (and counted).
  bool DropOutOfOrder(const Message& m) override;

  // One line for the stall report: view, sequence, phase, and what the replica waits for.
  std::string Describe() const override;

  // GeoBFT hooks (PbftConfig::defer_execution). The global layer bounds how far ahead of global
  // execution the primary may propose, asks an idle primary for no-op rounds, and starts a local
  // view change when other clusters report this cluster silent.
  void SetProposalLimit(TimeNs now, uint64_t limit, Effects& out);
  // The channel to the global layer (see LocalOutcome).
  const LocalOutcome& outcome() const { return outcome_; }
  std::vector<LocalDecision> TakeDecisions() { return std::exchange(outcome_.decided, {}); }
  void ClearOutcome() { outcome_ = {}; }
  void ProposeNoops(TimeNs now, uint64_t upto, Effects& out);
  // defer_execution: the result a request this group ordered gets when its round executes (null if
  // not ordered here, or forgotten), for a global layer that skipped the round by a snapshot.
  const uint64_t* OrderedResult(NodeId client, uint64_t timestamp) const {
    auto rec = clients_.find(client);
    return rec == clients_.end() ? nullptr : rec->second.results.Find(timestamp);
  }
  void SuspectPrimary(TimeNs now, Effects& out) {
    StartViewChange(now, view_ + 1, out);
    Settle(now, out);
  }
  // Reputation hook: roles for sequence numbers from `e.first_seq` on, and roles now known up to
  // `known_until`. Proposals and votes waiting for them proceed.
  void InstallRoles(TimeNs now, RoleEpoch e, uint64_t known_until, Effects& out);
  // Defence hooks (pbft_defence.cc). The global layer measured that the leader keeps our rounds
  // waiting: sign and broadcast a complaint (once per view). `barred`: a proof against this member
  // was committed; stop carrying it.
  void Complain(TimeNs now, uint64_t round, uint32_t lag_ms, Effects& out);
  void NoteBarred(NodeId culprit) { defence_.proofs.erase(culprit), defence_.barred.insert(culprit); }
  size_t proofs_held() const { return defence_.proofs.size(); }
  uint64_t complaints_sent() const { return defence_.complaints_sent; }

 private:
  using VoteSet = PbftVoteSet;
  using Slot = PbftSlot;

  // What this replica executed for one client, and the latest results (to answer re-sent requests).
  struct ClientRecord {
    ExecutedTimestamps executed;
    KeptAnswers results;  // of the latest kKeptResults timestamps
    bool Executed(uint64_t ts) const { return executed.Contains(ts); }
    // Marks `ts` executed; false when it already was (at most once).
    bool Execute(uint64_t ts);
  };
  using CheckpointVotes = PbftCheckpointVotes;

  // pbft_replica.cc: the input's handler, then the settle loop.
  void Handle(TimeNs now, const Input& in, Effects& out);
  void Settle(TimeNs now, Effects& out);
  void RequestViewChange(uint64_t view) { work_.view_change = std::max(work_.view_change, view); }
  // pbft_replica.cc: normal case.
  void OnRequest(TimeNs now, const MessagePtr& m, Effects& out);
  void OnPrePrepare(TimeNs now, const MessagePtr& m, Effects& out);
  void AdoptEarlyProposals(TimeNs now, Effects& out);  // repair_.early_proposals now in the window
  void OnVote(TimeNs now, const MessagePtr& m, Effects& out);
  void OnTimer(TimeNs now, uint64_t id, Effects& out);
  void TryPropose(TimeNs now, Effects& out);
  void AcceptPrePrepare(TimeNs now, uint64_t seq, MessagePtr pp, const Digest& digest, Effects& out);
  void Vote(VoteSet& votes, uint32_t index, const Digest& d, const Slot& slot);
  void Advance(uint64_t seq, Slot& slot, TimeNs now, Effects& out);
  void ExecuteCommitted(TimeNs now, Effects& out);
  void SendReply(NodeId client, uint64_t timestamp, uint64_t result, Effects& out);
  bool OutOfOrder(uint64_t view, uint64_t seq);  // drop_out_of_order: not the (view, seq) worked on
  bool GroupIsAhead() const;                     // f+1 replicas checkpointed above what we executed

  // pbft_retransmit.cc: repair of lost messages.
  // group_ahead: evidence that the group moved past our window (a proposal above it).
  void ArmStatusTimer(TimeNs now, Effects& out, bool group_ahead = false);
  void ArmGapStatusTimer(TimeNs now, Effects& out);
  bool GapOpen() const;
  void OnStatusTimer(TimeNs now, Effects& out);
  void OnStatus(TimeNs now, const MessagePtr& m, Effects& out);
  void ResendSlots(const wire::Status& st, bool follower, NodeId to, Effects& out);
  void SendStatus(Effects& out);

  // pbft_checkpoint.cc: checkpoints, garbage collection, state transfer.
  void TakeCheckpoint(TimeNs now, uint64_t seq, Effects& out);
  void OnCheckpoint(TimeNs now, const MessagePtr& m, Effects& out);
  void MaybeStabilize(TimeNs now, uint64_t seq, Effects& out);
  bool StabilizeIfOwn(uint64_t seq, Effects& out);
  void CollectGarbage(uint64_t seq);
  void RequestState(TimeNs now, Effects& out);
  void OnFetchState(const MessagePtr& m, Effects& out);
  void OnStateTransfer(TimeNs now, const MessagePtr& m, Effects& out);
  bool ExecutedHere(NodeId client, uint64_t timestamp) const;  // the client's request executed here
  void ForgetExecutedProposals();  // after a state transfer: drop queued or proposed requests it executed
  void SendStableState(NodeId to, Effects& out);  // our stable snapshot with its proof
  std::string SnapshotBytes(uint64_t seq) const;

  // pbft_view_change.cc: view change.
  TimeNs ViewChangeTimeout() const;
  void SetViewChangeEvent(TimeNs at, Effects& out);
  void ArmViewChangeTimer(TimeNs now, Effects& out);  // (re)starts the timeout from now
  void StartWaiting(TimeNs now, Effects& out);        // starts it unless it runs already
  void StopViewChangeTimer(Effects& out);
  void OnViewChangeTimer(TimeNs now, Effects& out);
  void ArmViewChangeTimerOnQuorum(TimeNs now, Effects& out);
  bool ViewChangeQuorum() const;  // 2f+1 VIEW-CHANGEs for the view we are changing to
  void StartViewChange(TimeNs now, uint64_t new_view, Effects& out);
  void OnViewChange(TimeNs now, const MessagePtr& m, Effects& out);
  void TryNewView(TimeNs now, Effects& out);
  void OnNewView(TimeNs now, const MessagePtr& m, Effects& out);
  void InstallView(TimeNs now, uint64_t view, const NewViewPlan& plan, Effects& out);
  void AdoptDeferredProposals(TimeNs now, Effects& out);
  // A NEW-VIEW checked against the committee of one role epoch: the proposals to install.
  absl::StatusOr<NewViewPlan> CheckNewView(const wire::NewView& nv, const RoleEpoch& roles, OpCounts& ops) const;
  bool IncludesOwnViewChange(const wire::NewView& nv) const;  // was our VIEW-CHANGE among its quorum
  void KeepProposedRequests();  // a view change: unexecuted proposals, whose requests the new primary takes
  absl::btree_map<std::pair<NodeId, uint64_t>, MessagePtr> DroppedRequests() const;
  void OnProgress(TimeNs now, bool waited_request_done, Effects& out);
  // A backup that accepted a proposal it has not executed waits for it like for a client's request
  // (Castro & Liskov: a request received, here inside a PRE-PREPARE, and not executed).
  bool AwaitsProposal() const;
  MessagePtr MakeProposal(uint64_t view, uint64_t seq, const Digest& digest, const wire::Batch* batch) const;

  GroupInfo group() const { return {&config_.members, config_.f, config_.window, config_.checkpoint_interval}; }
  // Leader of `view` for sequence number `seq` (the latest known roles if `seq` is beyond them).
  uint32_t LeaderOf(uint64_t seq, uint64_t view) const {
    return roles_.At(std::min(seq, roles_.known_until())).Leader(view);
  }
  // The view-change leader and committee: those of the next sequence number to execute.
  uint32_t PrimaryOf(uint64_t view) const { return LeaderOf(last_executed_ + 1, view); }
  const RoleEpoch& CurrentRoles() const { return roles_.At(std::min(last_executed_ + 1, roles_.known_until())); }
  uint32_t Matching(uint64_t seq, const PbftVoteSet& votes) const { return roles_.At(seq).Count(votes.match); }
  void AttachEvidence(wire::Batch& batch);
  // pbft_defence.cc
  void AttachAccusations(wire::Batch& batch);
  bool ValidAccusations(const wire::Batch& batch, OpCounts& ops) const;
  bool SignedHeader(const Message& pp) const;  // carries the header signature the defence requires
  void CheckPrepareConflict(TimeNs now, const Slot& slot, const MessagePtr& prepare, Effects& out);
  void CheckCommitConflict(TimeNs now, const Slot& slot, const MessagePtr& commit, Effects& out);
  void HoldProof(TimeNs now, wire::MisbehaviourProof proof, Effects& out);  // and broadcast it
  void OnAccusation(const MessagePtr& m, Effects& out);
  void OnComplaint(TimeNs now, const MessagePtr& m, Effects& out);
  void SendComplaint(uint64_t round, uint32_t lag_ms, Effects& out);
  void CountComplaints(Effects& out);
  void NoteDecided(TimeNs now, uint64_t seq, const Slot& slot, Effects& out);
  void NoteLeaderCommit(TimeNs now, const MessagePtr& m, bool authenticated, Effects& out);
  void SampleLeaderLag(TimeNs now, uint64_t seq, TimeNs lag, Effects& out);
  bool ValidEvidence(const Message& m, OpCounts& ops) const;
  bool HoldsCommit(const wire::Envelope& e) const;
  void HandOver(TimeNs now, Effects& out);
  bool InWindow(uint64_t seq) const { return seq > ckpt_.stable_seq && seq <= ckpt_.stable_seq + config_.window; }
  Slot& SlotFor(uint64_t seq) { return log_[seq]; }
  Slot& SlotInView(uint64_t seq);  // the slot, reset if it still holds an older view

  PbftConfig config_;
  Identity identity_;
  MemberIndex members_;
  uint64_t view_ = 0;
  bool view_changing_ = false;
  uint64_t view_changes_installed_ = 0;
  uint64_t last_executed_ = 0;
  Digest chain_;  // hash chain of executed batches: the replicated application state
  absl::btree_map<uint64_t, Slot> log_;
  absl::btree_map<NodeId, ClientRecord> clients_;  // ordered: it is part of the checkpointed state
  BatchAnswers batch_answers_;                     // of the batch executing (scratch: empty between steps)
  uint64_t out_of_order_dropped_ = 0;
  RoleSchedule roles_;    // reputation: who votes and leads at each sequence number
  TimerTable timers_;     // kBatchTimer, kViewChangeTimer, kFetchTimer, kStatusTimer
  LocalOutcome outcome_;  // defer_execution: for the global layer

  // By concern (protocol/pbft_state.h).
  PbftProposer proposer_;
  PbftCheckpoints ckpt_;
  PbftViewChange vc_;
  PbftRepair repair_;
  PbftReputationState rep_;
  PbftDefence defence_;
  PbftWork work_;  // for the settle loop
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_PBFT_REPLICA_H_
