// What a run reports of reputation: each replica's score and role every interval (reputation.csv),
// as the most advanced honest, running replica committed them (every honest replica holds the same
// table for the same round; the safety observer checks it), each replica's role changes and
// evictions (and events.csv rows for them), and how long active Byzantine replicas sat on a
// committee (without reputation every replica votes, so all the time they were active and up).
#ifndef GEOPBFT_SIM_REPUTATION_OBSERVER_H_
#define GEOPBFT_SIM_REPUTATION_OBSERVER_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "protocol/replica.h"
#include "sim/observer.h"
#include "sim/run_events.h"
#include "sim/topology.h"

namespace geopbft {

class ReputationObserver : public Observer {
 public:
  struct Row {
    double time_s;
    uint32_t cluster;
    NodeId replica;
    double score;
    std::string_view role;  // RoleName, or "crashed"
    uint64_t round;         // rounds the observing replica had executed
  };
  // The role sampled last (none while crashed; `sampled` false before the first sample).
  struct ReplicaRoles {
    std::optional<Role> role;
    bool sampled = false;
    uint64_t changes = 0;
    uint64_t evictions = 0;  // times it left the committee with a score below the eviction threshold
  };

  ReputationObserver(const Topology* topo, RunEventLog* events)
      : topo_(topo), events_(events), replicas_(topo->replicas) {}

  uint32_t interests() const override { return kSamples; }
  void OnSample(TimeNs now, const WorldAtSample& w) override;

  const std::vector<Row>& rows() const { return rows_; }
  const ReplicaRoles& roles(uint32_t replica) const { return replicas_[replica]; }
  double byzantine_in_committee_s() const { return byzantine_in_committee_s_; }
  // "crashed", a RoleName, or "" before the first sample.
  static std::string_view RoleText(bool sampled, const std::optional<Role>& role) {
    return !sampled ? "" : role ? RoleName(*role) : "crashed";
  }

 private:
  void SampleRoles(TimeNs now, const WorldAtSample& w, double span_s);
  const Topology* topo_;
  RunEventLog* events_;
  std::vector<ReplicaRoles> replicas_;
  std::vector<Row> rows_;
  double byzantine_in_committee_s_ = 0;
};

// The honest, running replica furthest in the global order (-1: none): whose committed tables a
// run reports.
int MostAdvancedHonest(const std::vector<ReplicaAtSample>& replicas);

}  // namespace geopbft

#endif  // GEOPBFT_SIM_REPUTATION_OBSERVER_H_
