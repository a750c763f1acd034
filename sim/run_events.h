// events.csv: what happened when, for plots and readers (they never parse the scenario). The log
// is shared: EventsObserver notes fault starts and ends and Byzantine behaviours turning on, the
// metrics observer view changes, the reputation observer role changes and evictions.
#ifndef GEOPBFT_SIM_RUN_EVENTS_H_
#define GEOPBFT_SIM_RUN_EVENTS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "sim/observer.h"

namespace geopbft {

struct RunEvent {
  double time_s;
  std::string kind;  // fault_start, fault_end, byzantine, view_change, role_change, eviction
  int64_t replica;   // -1: not one replica's (a partition, a cluster's view change)
  int64_t cluster;   // -1: not one cluster's
  std::string detail;
};

class RunEventLog {
 public:
  void Note(TimeNs at, std::string kind, int64_t replica, int64_t cluster, std::string detail) {
    events_.push_back({static_cast<double>(at) / kSecond, std::move(kind), replica, cluster, std::move(detail)});
  }
  const std::vector<RunEvent>& events() const { return events_; }

 private:
  std::vector<RunEvent> events_;
};

// Faults and Byzantine behaviours turning on (at their start time, or, for one that waits for a
// round, at the first sample that finds it on). Owns the log.
class EventsObserver : public Observer {
 public:
  uint32_t interests() const override { return kFaults | kSamples; }
  void OnFault(TimeNs now, const FaultSeen& f) override;
  void OnSample(TimeNs now, const WorldAtSample& w) override;
  RunEventLog& log() { return log_; }
  const RunEventLog& log() const { return log_; }

 private:
  RunEventLog log_;
  absl::btree_set<std::pair<uint32_t, size_t>> byzantine_noted_;  // (replica, behaviour)
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_RUN_EVENTS_H_
