// The scenario's fault schedule: which partitions and link changes are active, and the time-ordered
// transitions (start / end of each fault) that the simulation turns into events. Crashes and slow
// CPUs act on replica hosts and are applied by the simulation itself.
#ifndef GEOPBFT_SIM_FAULT_SCHEDULE_H_
#define GEOPBFT_SIM_FAULT_SCHEDULE_H_

#include <cstdint>
#include <vector>

#include "protocol/types.h"
#include "scenarios/scenario.pb.h"
#include "sim/region_catalog.h"

namespace geopbft {

class FaultSchedule {
 public:
  struct Transition {
    TimeNs at = 0;
    uint32_t fault = 0;
    bool start = true;
  };

  FaultSchedule(const scenario::Scenario& sc, const RegionCatalog& catalog, std::vector<int> node_region);

  // Start and end of every fault, by time (ties in fault order, starts before ends).
  const std::vector<Transition>& transitions() const { return transitions_; }
  const scenario::Fault& fault(uint32_t i) const { return faults_[i]; }
  void Apply(const Transition& t);

  bool active(uint32_t i) const { return active_[i]; }
  // Speed of a replica: that of the most recently listed active SLOW fault on it, else `base`.
  double SpeedOf(uint32_t replica, double base) const;
  // An active partition separates the two nodes.
  bool Blocked(NodeId a, NodeId b) const;
  // The most recently started active LINK fault covering the two nodes' regions, or null.
  const scenario::Fault* LinkFault(NodeId a, NodeId b) const;

 private:
  std::vector<scenario::Fault> faults_;
  std::vector<int> node_region_;
  std::vector<std::vector<uint8_t>> sides_;        // per fault: per node 0, 1 (side A) or 2 (side B)
  std::vector<std::vector<int>> link_a_, link_b_;  // per fault: region indexes (empty = any)
  std::vector<Transition> transitions_;
  std::vector<bool> active_;
  std::vector<uint32_t> active_order_;  // active faults, in the order they started
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_FAULT_SCHEDULE_H_
