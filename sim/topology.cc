#include "sim/topology.h"

#include <algorithm>

#include "sim/scenario_loader.h"

namespace geopbft {

Topology Topology::FromScenario(const scenario::Scenario& s) {
  Topology t;
  const auto& topo = s.topology();
  t.clusters = topo.clusters();
  t.per_cluster = topo.replicas_per_cluster();
  t.replicas = TotalReplicas(s);
  t.clients_per_cluster = s.workload().clients_per_cluster();
  t.geo = s.protocol().kind() != scenario::Protocol::PBFT;
  t.reputation = UsesReputation(s);
  t.f = GroupFaults(s);
  for (uint32_t c = 0; c < t.clusters; ++c) {
    std::vector<NodeId> members;
    for (uint32_t i = 0; i < t.per_cluster; ++i) members.push_back(c * t.per_cluster + i);
    t.cluster_members.push_back(std::move(members));
  }
  std::vector<NodeId> all;
  for (NodeId r = 0; r < t.replicas; ++r) all.push_back(r);
  t.groups = t.geo ? t.cluster_members : std::vector<std::vector<NodeId>>{all};
  const uint32_t group = t.group_size();
  const auto& r = s.protocol().reputation();
  t.voters = t.reputation ? (r.committee_size() > 0 ? r.committee_size() : std::min(3 * t.f + 1, group)) : group;

  t.catalog = s.network().regions_size() > 0 ? RegionCatalog::FromScenario(s.network()) : RegionCatalog::Embedded();
  std::vector<int> cluster_region(t.clusters);
  for (uint32_t c = 0; c < t.clusters; ++c) {
    cluster_region[c] = topo.cluster_regions_size() > 0 ? t.catalog.Find(topo.cluster_regions(c)) : static_cast<int>(c);
  }
  for (uint32_t r = 0; r < t.replicas; ++r) t.node_region.push_back(cluster_region[r / t.per_cluster]);
  for (uint32_t c = 0; c < t.clusters; ++c) {
    for (uint32_t k = 0; k < t.clients_per_cluster; ++k) t.node_region.push_back(cluster_region[c]);
  }
  for (int region : t.node_region) t.region_names.push_back(t.catalog.name(region));
  return t;
}

}  // namespace geopbft
