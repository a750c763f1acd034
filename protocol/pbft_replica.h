// PBFT (Castro & Liskov) replica as a pure state machine: Step(now, input) -> Effects.
// Normal case: request batching, PRE-PREPARE / PREPARE / COMMIT, in-order execution, replies.
// The replica never reads a clock, a random source or the network; see protocol/effects.h.
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
#include "protocol/message.h"
#include "protocol/types.h"

namespace geopbft {

struct PbftConfig {
  std::vector<NodeId> members;  // the group, in order; a member's index is its position
  uint32_t self_index = 0;
  uint32_t f = 0;
  uint32_t batch_size = 10;
  TimeNs batch_timeout = kMillisecond;
  uint32_t window = 64;  // sequence numbers in flight beyond the last executed one
};

// Votes of one phase for one sequence number, one per member.
struct PbftVoteSet {
  std::vector<uint64_t> seen;                        // bitset over member indexes
  std::vector<std::pair<uint32_t, Digest>> early;    // arrived before the PRE-PREPARE
  uint32_t matching = 0;                              // votes for the accepted digest
  uint32_t conflicting = 0;                           // votes for another digest
  bool Mark(uint32_t index);                          // false when this member already voted
  bool Has(uint32_t index) const;
};
// One sequence number of the log.
struct PbftSlot {
  MessagePtr pre_prepare;
  Digest digest;
  PbftVoteSet prepares;
  PbftVoteSet commits;
  bool commit_sent = false;
  bool committed = false;
};

class PbftReplica {
 public:
  // Timer ids this replica sets.
  static constexpr uint64_t kBatchTimer = 1;

  PbftReplica(PbftConfig config, Identity identity);

  void Step(TimeNs now, const Input& in, Effects& out);
  Effects Step(TimeNs now, const Input& in) {
    Effects out;
    Step(now, in, out);
    return out;
  }

  NodeId self() const { return identity_.self(); }
  uint64_t view() const { return view_; }
  uint64_t last_executed() const { return last_executed_; }
  uint32_t primary_index() const { return static_cast<uint32_t>(view_ % config_.members.size()); }
  NodeId primary() const { return config_.members[primary_index()]; }
  bool IsPrimary() const { return primary_index() == config_.self_index; }
  size_t pending_requests() const { return pending_.size(); }
  size_t log_size() const { return log_.size(); }
  const PbftConfig& config() const { return config_; }

  // One line for the stall report: view, sequence, phase, and what the replica waits for.
  std::string Describe() const;

 private:
  using VoteSet = PbftVoteSet;
  using Slot = PbftSlot;
  // What this replica executed for one client. A client may have many requests outstanding and the
  // network may reorder them, so execution is tracked per timestamp, not as a single "last one".
  struct ClientRecord {
    uint64_t low = 0;                           // every timestamp <= low has executed
    absl::btree_set<uint64_t> above;            // executed timestamps > low
    absl::btree_map<uint64_t, uint64_t> results;  // recent results, to answer re-sent requests
    bool Executed(uint64_t ts) const { return ts <= low || above.contains(ts); }
    void Record(uint64_t ts, uint64_t result);
  };

  void OnRequest(TimeNs now, const MessagePtr& m, Effects& out);
  void OnPrePrepare(TimeNs now, const MessagePtr& m, Effects& out);
  void OnVote(TimeNs now, const MessagePtr& m, Effects& out);
  void OnTimer(TimeNs now, uint64_t id, Effects& out);

  void TryPropose(TimeNs now, Effects& out);
  void Vote(VoteSet& votes, uint32_t index, const Digest& d, const Slot& slot);
  void Advance(uint64_t seq, Slot& slot, TimeNs now, Effects& out);
  void TryExecute(TimeNs now, Effects& out);
  void SendReply(NodeId client, uint64_t timestamp, uint64_t result, Effects& out);

  bool InWindow(uint64_t seq) const {
    return seq > last_executed_ && seq <= last_executed_ + config_.window;
  }
  // Member index of a node id, or -1.
  int IndexOf(NodeId node) const;
  Slot& SlotFor(uint64_t seq);

  PbftConfig config_;
  Identity identity_;
  absl::flat_hash_map<NodeId, uint32_t> index_of_;
  uint64_t view_ = 0;
  uint64_t last_executed_ = 0;
  absl::btree_map<uint64_t, Slot> log_;
  absl::flat_hash_map<NodeId, ClientRecord> clients_;

  // Primary only.
  uint64_t next_seq_ = 0;  // last sequence number assigned
  std::deque<MessagePtr> pending_;
  absl::flat_hash_set<std::pair<NodeId, uint64_t>> in_flight_;  // proposed or pending, not executed
  bool batch_timer_armed_ = false;
  bool batch_due_ = false;
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_PBFT_REPLICA_H_
