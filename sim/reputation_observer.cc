#include "sim/reputation_observer.h"

#include <string>

#include "absl/strings/str_format.h"

namespace geopbft {

int MostAdvancedHonest(const std::vector<ReplicaAtSample>& replicas) {
  int best = -1;
  uint64_t furthest = 0;
  for (uint32_t i = 0; i < replicas.size(); ++i) {
    const ReplicaAtSample& h = replicas[i];
    if (!h.byzantine->empty() || h.crashed) continue;
    if (best < 0 || h.state->last_executed() > furthest)
      best = static_cast<int>(i), furthest = h.state->last_executed();
  }
  return best;
}

void ReputationObserver::OnSample(TimeNs now, const WorldAtSample& w) {
  const double span_s = static_cast<double>(now - w.since) / kSecond;
  if (topo_->reputation) return SampleRoles(now, w, span_s);
  for (const ReplicaAtSample& h : w.replicas) {
    if (!h.crashed && h.ByzantineActive(now)) byzantine_in_committee_s_ += span_s;
  }
}

void ReputationObserver::SampleRoles(TimeNs now, const WorldAtSample& w, double span_s) {
  const int obs = MostAdvancedHonest(w.replicas);
  if (obs < 0) return;
  const Replica& g = *w.replicas[obs].state;
  for (uint32_t i = 0; i < w.replicas.size(); ++i) {
    const ReplicaAtSample& h = w.replicas[i];
    ReplicaRoles& mine = replicas_[i];
    const uint32_t c = topo_->GroupOf(i), index = topo_->IndexInGroup(i);
    const std::optional<Role> role = h.crashed ? std::nullopt : std::optional<Role>(g.RoleOf(c, index));
    // The role held during the interval just ended: the one sampled at its start (at time zero,
    // the first committee).
    const std::optional<Role> held = mine.sampled ? mine.role : std::optional<Role>(g.FirstRoleOf(c, index));
    if (h.ByzantineActive(now) && held && *held != Role::kListener) byzantine_in_committee_s_ += span_s;
    if (!mine.sampled || role != mine.role) {
      mine.changes += mine.sampled;  // the first sample sets the starting role
      const bool was_voting = mine.sampled && mine.role && *mine.role != Role::kListener;
      // Evicted: left the committee with a score below the eviction threshold (not merely outranked).
      if (was_voting && role == Role::kListener && g.ScoreOf(c, index) < g.eviction_threshold()) {
        ++mine.evictions;
        events_->Note(now, "eviction", i, h.cluster, absl::StrFormat("score %.2f", g.ScoreOf(c, index)));
      }
      if (mine.sampled) {
        events_->Note(now, "role_change", i, h.cluster,
                      std::string(RoleText(true, mine.role)) + " -> " + std::string(RoleText(true, role)));
      }
      mine.role = role;
      mine.sampled = true;
    }
    rows_.push_back({static_cast<double>(now) / kSecond, h.cluster, i, g.ScoreOf(c, index), RoleText(true, role),
                     g.rounds_executed()});
  }
}

}  // namespace geopbft
