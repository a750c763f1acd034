// What the simulation reports of reputation: scores and roles as the most advanced honest replica
// committed them (every honest replica holds the same table for the same round; the role checker
// makes sure), sampled each interval, plus the per-replica view the outputs print.
#include <algorithm>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/simulation.h"

namespace geopbft {

namespace {

std::string_view RoleText(bool sampled, const std::optional<Role>& role) {
  return !sampled ? "" : role ? RoleName(*role) : "crashed";
}

}  // namespace

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
  int obs = Observer();
  return obs < 0 ? std::vector<Barred>{} : replicas_[obs].sm->barred();
}

uint64_t Simulation::depositions() const {
  int obs = Observer();
  return obs < 0 ? 0 : replicas_[obs].sm->depositions();
}

// Scores and roles as the most advanced honest replica committed them: every honest replica holds
// the same table for the same round (the role checker makes sure), so one view is the view.
void Simulation::SampleReputation(double span_s) {
  int obs = Observer();
  if (obs < 0) return;
  const Replica& g = *replicas_[obs].sm;
  for (uint32_t i = 0; i < replicas_.size(); ++i) {
    ReplicaHost& h = replicas_[i];
    const uint32_t c = topo_.GroupOf(i), index = topo_.IndexInGroup(i);
    const std::optional<Role> role = h.crashed ? std::nullopt : std::optional<Role>(g.RoleOf(c, index));
    // The role held during the interval just ended: the one sampled at its start (at time zero,
    // the first committee).
    const std::optional<Role> held = h.role_sampled ? h.role : std::optional<Role>(g.FirstRoleOf(c, index));
    bool byzantine_now = std::any_of(h.byzantine.begin(), h.byzantine.end(), [&](const ByzantineBehaviour& b) {
      return b.Active(now_, h.sm->rounds_executed());
    });
    if (byzantine_now && held && *held != Role::kListener) byzantine_in_committee_s_ += span_s;
    if (!h.role_sampled || role != h.role) {
      h.role_changes += h.role_sampled;  // the first sample sets the starting role
      const bool was_voting = h.role_sampled && h.role && *h.role != Role::kListener;
      // Evicted: left the committee with a score below the eviction threshold (not merely outranked).
      if (was_voting && role == Role::kListener && g.ScoreOf(c, index) < g.eviction_threshold()) {
        ++h.evictions;
        NoteEvent("eviction", i, h.cluster, absl::StrFormat("score %.2f", g.ScoreOf(c, index)));
      }
      if (h.role_sampled) {
        NoteEvent("role_change", i, h.cluster,
                  std::string(RoleText(true, h.role)) + " -> " + std::string(RoleText(true, role)));
      }
      h.role = role;
      h.role_sampled = true;
    }
    reputation_rows_.push_back({static_cast<double>(now_) / kSecond, h.cluster, i, g.ScoreOf(c, index),
                                RoleText(true, role), g.rounds_executed()});
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
    v.role = h.crashed ? "crashed" : std::string(RoleText(h.role_sampled, h.role));
    int obs = Observer();
    if (obs >= 0)
      v.score = absl::StrFormat("%.2f", replicas_[obs].sm->ScoreOf(topo_.GroupOf(i), topo_.IndexInGroup(i)));
  }
  v.view = h.sm->view();
  v.executed_seq = h.sm->last_executed();
  v.stats = &h.stats;
  return v;
}

}  // namespace geopbft
