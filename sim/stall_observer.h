// Liveness: a run in which no replica executes anything for checks.stall_after_s while client
// requests are outstanding (counted from the end of the last scheduled network fault, if later)
// has stalled. The observer says so (the engine then stops the run) and
// writes the stall report: every replica's position and what it waits for, every client's count.
#ifndef GEOPBFT_SIM_STALL_OBSERVER_H_
#define GEOPBFT_SIM_STALL_OBSERVER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/observer.h"

namespace geopbft {

class StallObserver : public Observer {
 public:
  // `names`: each node's label (replicas, then clients) for the report.
  StallObserver(TimeNs stall_after, const std::vector<std::string>* region_names)
      : stall_after_(stall_after), region_names_(region_names) {}

  uint32_t interests() const override { return kReplicaSteps | kSamples | kFaults; }
  void OnReplicaStep(TimeNs now, const ReplicaStep& s) override {
    if (!s.fx.executed.empty()) last_progress_ = now;
  }
  // A scheduled network fault (a partition, a slow or lossy link) may stop progress while it lasts;
  // that is the scenario, not a stall. The clock starts again when it ends: from then on the
  // protocol must recover within stall_after.
  void OnFault(TimeNs now, const FaultSeen& f) override;
  void OnSample(TimeNs now, const WorldAtSample& w) override;

  bool stalled() const { return stalled_; }
  const std::string& report() const { return report_; }

 private:
  void Report(TimeNs now, const WorldAtSample& w);
  TimeNs stall_after_;
  const std::vector<std::string>* region_names_;
  TimeNs last_progress_ = 0;  // the last execution, or the end of the last network fault
  int network_faults_ = 0;    // in force now
  bool stalled_ = false;
  std::string report_;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_STALL_OBSERVER_H_
