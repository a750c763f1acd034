// PbftReplica's state, grouped by the concern (and the pbft_*.cc file) that owns it. The replica's
// core (view, log, executed position, clients) stays in pbft_replica.h; each group here is read
// elsewhere but written by its own file.
#ifndef GEOPBFT_PROTOCOL_PBFT_STATE_H_
#define GEOPBFT_PROTOCOL_PBFT_STATE_H_

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_set.h"
#include "protocol/crypto.h"
#include "protocol/message.h"
#include "protocol/types.h"

namespace geopbft {

// pbft_replica.cc (primary only): what to propose next.
struct PbftProposer {
  uint64_t next_seq = 0;  // last sequence number assigned
  std::deque<MessagePtr> pending;
  absl::flat_hash_set<std::pair<NodeId, uint64_t>> in_flight;  // proposed or pending, not executed
  bool batch_due = false;                                      // the batch timer fired: a partial batch may go
  uint64_t limit = UINT64_MAX;                                 // GeoBFT's bound on proposals (SetProposalLimit)
};

// pbft_replica.cc: what handlers made possible, for the settle loop (PbftReplica::Settle).
struct PbftWork {
  uint64_t view_change = 0;   // start a view change to this view (0: none)
  bool window_moved = false;  // the stable checkpoint moved: adopt deferred proposals, propose
  bool propose = false;       // the primary may have something to propose
};

// CHECKPOINT messages for one sequence number, by digest then signer index.
using PbftCheckpointVotes = absl::btree_map<std::string, absl::btree_map<uint32_t, MessagePtr>>;

// pbft_checkpoint.cc: checkpoints, garbage collection, state transfer.
struct PbftCheckpoints {
  uint64_t stable_seq = 0;
  Digest stable_digest;
  std::vector<wire::Envelope> stable_proof;          // 2f+1 signed CHECKPOINTs for stable_seq
  std::vector<MessagePtr> stable_proof_msgs;         // the same, as received (empty after a state transfer)
  std::string stable_snapshot;                       // serialized StateSnapshot at stable_seq
  absl::btree_map<uint64_t, std::string> snapshots;  // own snapshots above the stable checkpoint
  absl::btree_map<uint64_t, PbftCheckpointVotes> votes;
  uint64_t fetching_seq = 0;  // state transfer in progress towards at least this checkpoint
  uint32_t fetch_attempt = 0;
  uint64_t state_transfers = 0;
};

// pbft_view_change.cc: the request timer and view change.
struct PbftViewChange {
  uint32_t attempts = 0;  // consecutive view changes without progress: back-off exponent
  // Re-proposals of the installed NEW-VIEW above our window when we installed it (we were fetching
  // the state it starts from), adopted as the window reaches them.
  absl::btree_map<uint64_t, MessagePtr> deferred_proposals;
  bool running = false;  // the request timeout runs (since `since`: start of the wait or last progress)
  TimeNs since = 0;
  absl::btree_map<uint64_t, absl::btree_map<uint32_t, MessagePtr>> msgs;  // VIEW-CHANGEs: view -> index
  absl::btree_map<std::pair<NodeId, uint64_t>, MessagePtr> waiting;       // requests not yet executed
  // Proposals accepted and not executed when the view change began, by sequence number (the new
  // primary proposes their requests; see KeepProposedRequests).
  absl::btree_map<uint64_t, MessagePtr> dropped_proposals;
  MessagePtr last_new_view;  // the NEW-VIEW of the current view, re-sent to replicas left behind
};

// pbft_retransmit.cc: repair of lost messages (STATUS).
struct PbftRepair {
  bool gap_armed = false;  // the status timer is set for a visible gap (short delay)
  // Consecutive gap timers that found the gap still open: the delay doubles with each (up to the
  // ordinary status period), so a gap peers cannot fill does not make us ask 20 times a second.
  uint32_t gap_rounds = 0;
  // A member at or past our position asked for repairs: it has work above, which we may not even
  // know of (a PRE-PREPARE lost to us alone leaves nothing in our log to ask about).
  bool peer_ahead = false;
  uint64_t mark = 0;  // last_executed_ when the status timer was armed
  // Messages accepted for the next sequence number to execute, and their count when the status
  // timer was armed: a slot still gathering votes is slow, not lost, and asking for it would only
  // make every member resend what is already on its way.
  uint64_t next_slot_progress = 0;
  uint64_t progress_mark = 0;
  // PRE-PREPAREs of our view up to a window above ours, come before the checkpoint that moves it
  // (jitter reorders them): checked and adopted when the window gets there, instead of dropped and
  // asked for again a status period later.
  absl::btree_map<uint64_t, MessagePtr> early_proposals;
};

// pbft_reputation.cc: evidence and roles beyond what is known.
struct PbftReputationState {
  absl::btree_map<uint64_t, MessagePtr> future_proposals;  // PRE-PREPAREs beyond known roles
  uint64_t reported_upto = 0;                              // evidence attached up to this sequence number
  uint64_t equivocations_seen = 0;                         // view changes started on proof of an equivocating leader
};

// pbft_defence.cc: proofs, complaints and the leader-pace monitor.
struct PbftDefence {
  absl::btree_map<NodeId, wire::MisbehaviourProof> proofs;  // held until committed (NoteBarred)
  absl::btree_map<NodeId, uint64_t> proof_attached_at;      // culprit -> sequence number last carried
  absl::btree_set<NodeId> barred;
  absl::btree_map<uint64_t, absl::btree_map<uint32_t, MessagePtr>> complaints;  // view -> complainer index
  absl::btree_map<uint64_t, std::vector<MessagePtr>> complaint_certs;           // view -> f+1, to commit
  absl::btree_set<uint64_t> complained;                                         // views we complained about
  uint64_t complaints_sent = 0;
  // The leader's own pace, next to its peers' (same region, so distance plays no part): how long
  // after a slot was decided here the leader's COMMIT for it arrives. A leader on a slow or
  // saturated machine answers late; loss drops single samples.
  absl::btree_map<uint64_t, TimeNs> decided_at;  // seq -> decided here, the leader's COMMIT not yet in
  std::deque<TimeNs> leader_lags;
  uint64_t leader_lag_view = UINT64_MAX;
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_PBFT_STATE_H_
