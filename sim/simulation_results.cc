// The run's results as outputs print them: each replica's line (role, score, counters) and the
// reputation defence's outcome, as the most advanced honest replica committed it (every honest
// replica holds the same table for the same round; the safety observer makes sure).
#include <string_view>

#include "absl/strings/str_format.h"
#include "sim/simulation.h"

namespace geopbft {

uint64_t Simulation::representative_changes() const {
  uint64_t changes = 0, furthest = 0;
  for (const ReplicaHost& h : replicas_) {
    if (!h.byzantine.empty() || h.sm->last_executed() < furthest) continue;
    furthest = h.sm->last_executed();
    changes = h.sm->representative_changes();
  }
  return changes;
}

std::vector<Barred> Simulation::barred() const {
  int obs = MostAdvanced();
  return obs < 0 ? std::vector<Barred>{} : replicas_[obs].sm->barred();
}

uint64_t Simulation::depositions() const {
  int obs = MostAdvanced();
  return obs < 0 ? 0 : replicas_[obs].sm->depositions();
}

Simulation::ReplicaView Simulation::replica(uint32_t i) const {
  const ReplicaHost& h = replicas_[i];
  const ReputationObserver::ReplicaRoles& roles = obs_->reputation.roles(i);
  ReplicaView v;
  v.cluster = h.cluster;
  v.id = i;
  v.region = topo_.region_names[i];
  v.behaviour = h.byzantine.empty() ? "honest" : h.byzantine.front().Name();
  v.role = h.crashed ? "crashed" : h.sm->IsPrimary() ? "representative" : "committee";
  v.role_changes = roles.changes;
  v.evictions = roles.evictions;
  if (topo_.reputation) {
    v.role = h.crashed ? "crashed" : std::string(ReputationObserver::RoleText(roles.sampled, roles.role));
    int obs = MostAdvanced();
    if (obs >= 0)
      v.score = absl::StrFormat("%.2f", replicas_[obs].sm->ScoreOf(topo_.GroupOf(i), topo_.IndexInGroup(i)));
  }
  v.view = h.sm->view();
  v.executed_seq = h.sm->last_executed();
  v.stats = &h.stats;
  return v;
}

}  // namespace geopbft
