// What the simulation reports of reputation: scores and roles as the most advanced honest replica
// committed them (every honest replica holds the same table for the same round; the role checker
// makes sure), sampled each interval, plus the per-replica view the outputs print.
#include <algorithm>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "protocol/geobft_replica.h"
#include "sim/simulation.h"

namespace geopbft {

uint64_t Simulation::representative_changes() const {
  uint64_t changes = 0, furthest = 0;
  for (const ReplicaHost& h : replicas_) {
    const auto* g = dynamic_cast<const GeoBftReplica*>(h.sm.get());
    if (g == nullptr || !h.byzantine.empty() || h.sm->last_executed() < furthest) continue;
    furthest = h.sm->last_executed();
    changes = g->representative_changes();
  }
  return changes;
}

std::vector<Barred> Simulation::barred() const {
  int obs = Observer();
  const auto* g = obs < 0 ? nullptr : dynamic_cast<const GeoBftReplica*>(replicas_[obs].sm.get());
  return g && g->scores() ? g->scores()->barred() : std::vector<Barred>{};
}

uint64_t Simulation::depositions() const {
  int obs = Observer();
  const auto* g = obs < 0 ? nullptr : dynamic_cast<const GeoBftReplica*>(replicas_[obs].sm.get());
  return g && g->scores() ? g->scores()->depositions() : 0;
}

// Scores and roles as the most advanced honest replica committed them: every honest replica holds
// the same table for the same round (the role checker makes sure), so one view is the view.
void Simulation::SampleReputation(double span_s) {
  int obs = Observer();
  if (obs < 0) return;
  const auto& g = static_cast<const GeoBftReplica&>(*replicas_[obs].sm);
  const ScoreBook* book = g.scores();
  const uint32_t per_cluster = topo_.per_cluster;
  for (uint32_t i = 0; i < replicas_.size(); ++i) {
    ReplicaHost& h = replicas_[i];
    uint32_t c = topo_.geo ? h.cluster : 0, index = topo_.geo ? i % per_cluster : i;
    static const char* const kRoles[] = {"listener", "committee", "representative"};
    const char* role = h.crashed ? "crashed" : kRoles[g.RoleOf(c, index)];
    // The role held during the interval just ended: the one sampled at its start (at time zero,
    // the first committee).
    const char* held = *h.role != '\0'                                       ? h.role
                       : g.roles_of(c).epochs().begin()->second.Votes(index) ? "committee"
                                                                             : "listener";
    bool byzantine_now = std::any_of(h.byzantine.begin(), h.byzantine.end(), [&](const ByzantineBehaviour& b) {
      return b.Active(now_, h.sm->rounds_executed());
    });
    if (byzantine_now && std::string_view(held) != "listener" && std::string_view(held) != "crashed") {
      byzantine_in_committee_s_ += span_s;
    }
    if (std::string_view(role) != h.role) {
      h.role_changes += *h.role != '\0';  // the first sample sets the starting role
      bool was_voting =
          *h.role != '\0' && std::string_view(h.role) != "listener" && std::string_view(h.role) != "crashed";
      // Evicted: left the committee with a score below the eviction threshold (not merely outranked).
      if (was_voting && std::string_view(role) == "listener" &&
          book->Score(c, index) < book->params().eviction_threshold) {
        ++h.evictions;
        NoteEvent("eviction", i, h.cluster, absl::StrFormat("score %.2f", book->Score(c, index)));
      }
      if (*h.role != '\0') NoteEvent("role_change", i, h.cluster, absl::StrCat(h.role, " -> ", role));
      h.role = role;
    }
    reputation_rows_.push_back(
        {static_cast<double>(now_) / kSecond, h.cluster, i, book->Score(c, index), role, g.rounds_executed()});
  }
}

Simulation::ReplicaView Simulation::replica(uint32_t i) const {
  const ReplicaHost& h = replicas_[i];
  ReplicaView v;
  v.cluster = h.cluster;
  v.id = i;
  v.region = topo_.region_names[i];
  v.behaviour = h.byzantine.empty() ? "honest" : h.byzantine.front().Name();
  v.role = h.crashed ? "crashed" : h.sm->IsPrimary() ? "representative" : "committee";
  v.role_changes = h.role_changes;
  v.evictions = h.evictions;
  if (topo_.reputation) {
    v.role = h.crashed ? "crashed" : h.role;
    int obs = Observer();
    if (obs >= 0) {
      const auto& g = static_cast<const GeoBftReplica&>(*replicas_[obs].sm);
      const uint32_t per_cluster = topo_.per_cluster;
      v.score = absl::StrFormat("%.2f", g.scores()->Score(topo_.geo ? h.cluster : 0, topo_.geo ? i % per_cluster : i));
    }
  }
  v.view = h.sm->view();
  v.executed_seq = h.sm->last_executed();
  v.stats = &h.stats;
  return v;
}

}  // namespace geopbft
