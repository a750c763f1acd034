// WAN model. One-way delay = RTT/2 between the two regions + jitter (from the sender's stream),
// after serialization at the sender's uplink: a FIFO per (sender, destination region) that sends
// size / bandwidth. Or, in uniform mode, one delay distribution for every pair of nodes.
#ifndef GEOPBFT_SIM_NETWORK_H_
#define GEOPBFT_SIM_NETWORK_H_

#include <cstdint>
#include <vector>

#include "protocol/types.h"
#include "scenarios/scenario.pb.h"
#include "sim/region_catalog.h"
#include "sim/rng.h"

namespace geopbft {

class Network {
 public:
  // node_region[node] = index into `catalog` of the node's region.
  Network(const scenario::Network& config, RegionCatalog catalog, std::vector<int> node_region);

  struct Transit {
    TimeNs arrival = 0;
    bool lost = false;
    bool wan = false;  // crosses regions
  };
  // A message of `bytes` leaves `from` for `to` at `now`. Draws jitter and loss from `rng`.
  // `link`, when not null, is an active LINK fault whose loss ratio (and jitter, if set) apply.
  Transit Send(TimeNs now, NodeId from, NodeId to, uint32_t bytes, Rng& rng, const scenario::Fault* link = nullptr);

  int region_of(NodeId n) const { return node_region_[n]; }
  const RegionCatalog& catalog() const { return catalog_; }

 private:
  scenario::Network config_;
  RegionCatalog catalog_;
  std::vector<int> node_region_;
  std::vector<TimeNs> one_way_;         // regions x regions: RTT/2
  std::vector<double> ns_per_byte_;     // regions x regions: serialization cost, 0 = unlimited
  std::vector<TimeNs> uplink_free_at_;  // nodes x regions: when the uplink queue drains
  bool uniform_;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_NETWORK_H_
