// What the simulator needs from a replica state machine, whichever protocol it runs (flat PBFT,
// GeoBFT). Step() is the only way in; the rest is inspection for observers and reports.
#ifndef GEOPBFT_PROTOCOL_REPLICA_H_
#define GEOPBFT_PROTOCOL_REPLICA_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/effects.h"
#include "protocol/message.h"
#include "protocol/reputation.h"

namespace geopbft {

// A replica's part in its cluster for the next round, as its committed data says. Without
// reputation every member votes (committee) and the primary leads (representative).
enum class Role : uint8_t { kListener, kCommittee, kRepresentative };
constexpr std::string_view RoleName(Role r) {
  return r == Role::kListener ? "listener" : r == Role::kCommittee ? "committee" : "representative";
}

class Replica {
 public:
  virtual ~Replica() = default;
  virtual void Step(TimeNs now, const Input& in, Effects& out) = 0;
  // Legacy receive path of the original design (see PbftConfig::drop_out_of_order).
  virtual bool DropOutOfOrder(const Message& m) = 0;

  virtual uint64_t view() const = 0;           // the local view
  virtual uint64_t last_executed() const = 0;  // last executed position of the global order
  // Rounds executed: sequence numbers for PBFT, global rounds for GeoBFT.
  virtual uint64_t rounds_executed() const { return last_executed(); }
  virtual bool IsPrimary() const = 0;        // primary of its (local) group
  virtual size_t state_entries() const = 0;  // everything kept that could grow with the run
  // The bounds the protocol keeps by design — watermarks (no slot outside the window above the
  // stable checkpoint) and the caps of every table that could grow with the run or with what peers
  // send. Empty when they hold, else which one does not. Observers check it (the swarm fails a run).
  virtual std::string BoundViolation() const = 0;
  virtual size_t log_size() const = 0;
  // One line for the stall report: view, sequence, phase, and what the replica waits for.
  virtual std::string Describe() const = 0;

  // Reputation as this replica committed it, protocol-neutral (observers never know the concrete
  // protocol). Member `index` of group `group`; a replica without reputation answers with its group
  // all voting, no scores, nobody barred or deposed.
  virtual bool HasReputation() const { return false; }
  virtual Role RoleOf(uint32_t group, uint32_t index) const {
    (void)group, (void)index;
    return Role::kCommittee;
  }
  virtual Role FirstRoleOf(uint32_t group, uint32_t index) const { return RoleOf(group, index); }  // at round 1
  virtual double ScoreOf(uint32_t group, uint32_t index) const {
    (void)group, (void)index;
    return 0;
  }
  virtual double eviction_threshold() const { return 0; }
  virtual uint64_t representative_changes() const { return 0; }
  virtual std::vector<Barred> barred() const { return {}; }
  virtual uint64_t depositions() const { return 0; }
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_REPLICA_H_
