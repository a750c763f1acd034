// Inputs to and effects of a protocol state machine step. The state machine never touches the
// network, a clock or a random source; it returns what it wants done and the simulator does it.
#ifndef GEOPBFT_PROTOCOL_EFFECTS_H_
#define GEOPBFT_PROTOCOL_EFFECTS_H_

#include <cstdint>
#include <vector>

#include "protocol/message.h"
#include "protocol/types.h"

namespace geopbft {

struct Input {
  enum class Kind { kStart, kMessage, kTimer, kSubmit };
  Kind kind = Kind::kStart;
  MessagePtr msg;      // kMessage
  uint64_t timer = 0;  // kTimer: the id given when it was set
  // kTimer, simulator bookkeeping: which setting of the timer fired (a step still on the CPU when
  // it fired may have replaced or cancelled it; the simulator checks again when it is taken).
  uint32_t generation = 0;

  static Input Start() { return {Kind::kStart, nullptr, 0}; }
  static Input Deliver(MessagePtr m) { return {Kind::kMessage, std::move(m), 0}; }
  static Input Timer(uint64_t id, uint32_t generation = 0) { return {Kind::kTimer, nullptr, id, generation}; }
  static Input Submit() { return {Kind::kSubmit, nullptr, 0}; }
};

// Destination meaning "every other member of my group".
inline constexpr NodeId kToGroup = UINT32_MAX;

struct Outgoing {
  MessagePtr msg;
  NodeId to = kToGroup;
};

// Set (or re-set) timer `id` to fire at `at`; or cancel it. Setting an id that is pending
// replaces it; a cancelled or replaced timer never fires.
struct TimerOp {
  uint64_t id = 0;
  TimeNs at = 0;
  bool cancel = false;
};

// A batch executed at a sequence number: what the agreement checker compares across replicas.
struct Execution {
  uint64_t seq = 0;
  uint64_t view = 0;
  Digest digest;
  uint32_t requests = 0;  // requests actually executed (duplicates excluded)
};

// A client request executed in a step, and its result (observers check that the result a client
// accepted is the one honest replicas computed).
struct RequestResult {
  NodeId client = 0;
  uint64_t timestamp = 0;
  uint64_t result = 0;
};

// GeoBFT: a batch committed by the local group at `seq` (the round), with its commit certificate.
// (Reaches the global layer through PbftReplica::TakeDecisions, never the host.)
struct LocalDecision {
  uint64_t seq = 0;
  uint64_t view = 0;
  Digest digest;
  MessagePtr pre_prepare;           // carries the batch
  std::vector<MessagePtr> commits;  // 2f+1 signed COMMITs for (view, seq, digest)
  TimeNs proposed_at = 0;           // when its PRE-PREPARE was accepted here
};

// A client request that gathered f+1 matching replies.
struct Completion {
  uint64_t timestamp = 0;
  TimeNs submitted = 0;
  TimeNs completed = 0;
  uint64_t result = 0;  // the result the f+1 matching replies carried
};

struct Effects {
  std::vector<Outgoing> sends;
  std::vector<TimerOp> timers;
  std::vector<Execution> executed;
  std::vector<RequestResult> results;  // of the requests in `executed`
  std::vector<Completion> completions;
  OpCounts ops;
  uint32_t rejected = 0;  // inputs dropped as malformed, unauthenticated or out of place
  // Observations for the host's metrics (GeoBFT reads them from PbftReplica::outcome()).
  uint64_t state_transferred_to = 0;  // a replica installed a certified state up to this sequence
  uint32_t views_installed = 0;       // NEW-VIEWs installed in this step
  // Reputation: roles re-selected after executing a round: (round, fingerprint of the scores and the
  // chosen roles). Every correct replica must report the same fingerprint for the same round.
  std::vector<std::pair<uint64_t, uint64_t>> roles_chosen;

  void Send(MessagePtr m, NodeId to) { sends.push_back({std::move(m), to}); }
  // Nothing for the world to see (rejections are only counted): most inputs (a vote short of a
  // quorum, a duplicate certificate) end so.
  bool Quiet() const {
    return sends.empty() && timers.empty() && executed.empty() && results.empty() && completions.empty() &&
           roles_chosen.empty() && views_installed == 0 && state_transferred_to == 0;
  }
  void SetTimer(uint64_t id, TimeNs at) { timers.push_back({id, at, false}); }
  void CancelTimer(uint64_t id) { timers.push_back({id, 0, true}); }
  void Clear() {
    sends.clear();
    timers.clear();
    executed.clear();
    results.clear();
    completions.clear();
    ops = {};
    rejected = 0;
    state_transferred_to = 0;
    views_installed = 0;
    roles_chosen.clear();
  }
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_EFFECTS_H_
