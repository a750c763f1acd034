// Network model (scenario.proto, Network). A message crosses the sender's NIC (one FIFO for all
// destinations), then its flow (a FIFO per sender -> receiver at the regions' pair bandwidth, which
// streams what the NIC emits), then the one-way delay: RTT/2 between the two regions + jitter (from
// the sender's stream); optionally it then queues at the receiver's NIC. Or, in uniform mode, one
// delay distribution for every pair of nodes.
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
  // A FIFO stage at `ns_per_byte` (0 = unlimited) that a message enters when its first byte is
  // ready (`start`) and cannot leave before its last byte is (`done`): both move to this stage's.
  static void Stage(TimeNs& free_at, double ns_per_byte, uint32_t bytes, TimeNs& start, TimeNs& done);

  scenario::Network config_;
  RegionCatalog catalog_;
  std::vector<int> node_region_;
  size_t nodes_;
  std::vector<TimeNs> one_way_;          // regions x regions: RTT/2
  std::vector<double> ns_per_byte_;      // regions x regions: a flow's serialization cost, 0 = unlimited
  std::vector<double> nic_ns_per_byte_;  // nodes: its NIC's serialization cost, 0 = unlimited
  std::vector<TimeNs> nic_free_at_;      // nodes: when the sending NIC's queue drains
  std::vector<TimeNs> flow_free_at_;     // nodes x nodes: when the flow's queue drains
  std::vector<TimeNs> rx_free_at_;       // nodes: when the receiving NIC's queue drains (receiver_nic)
  bool uniform_;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_NETWORK_H_
