// The run's shape, worked out once from a (validated) scenario: which replicas form each cluster
// and each PBFT group, f per group, how many of a group vote, where every node lives, and the node
// ids of clients. The simulation, the auditor and the sweep read it instead of redoing the
// arithmetic on the scenario.
#ifndef GEOPBFT_SIM_TOPOLOGY_H_
#define GEOPBFT_SIM_TOPOLOGY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/types.h"
#include "scenarios/scenario.pb.h"
#include "sim/region_catalog.h"

namespace geopbft {

struct Topology {
  static Topology FromScenario(const scenario::Scenario& s);

  uint32_t clusters = 0;
  uint32_t per_cluster = 0;          // replicas per cluster
  uint32_t replicas = 0;             // node ids 0 .. replicas-1
  uint32_t clients_per_cluster = 0;  // node ids replicas .. (clients of cluster 0 first)
  // GeoBFT (with or without reputation) runs one PBFT group per cluster; flat PBFT one group of
  // everyone (with reputation too: one cluster of everyone on the GeoBFT layer).
  bool geo = false;
  bool reputation = false;
  bool layered() const { return geo || reputation; }
  uint32_t f = 0;       // per group
  uint32_t voters = 0;  // of a group: its committee with reputation, else all of it
  std::vector<std::vector<NodeId>> cluster_members;
  std::vector<std::vector<NodeId>> groups;

  // Placement: cluster c lives in its named region, or the c-th catalog region; clients in their
  // cluster's.
  RegionCatalog catalog;
  std::vector<int> node_region;  // replicas, then clients
  std::vector<std::string> region_names;

  uint32_t clients() const { return clusters * clients_per_cluster; }
  uint32_t ClusterOf(NodeId replica) const { return replica / per_cluster; }
  uint32_t GroupOf(NodeId replica) const { return geo ? ClusterOf(replica) : 0; }
  uint32_t IndexInGroup(NodeId replica) const { return geo ? replica % per_cluster : replica; }
  uint32_t group_size() const { return static_cast<uint32_t>(groups[0].size()); }
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_TOPOLOGY_H_
