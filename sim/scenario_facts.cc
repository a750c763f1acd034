// Facts a scenario implies, used wherever the run is set up (simulation, topology, auditor, sweep):
// how many replicas, the size and f of each PBFT group, whether reputation is on, and its
// parameters as the protocol takes them.
#include "protocol/quorum.h"
#include "sim/scenario_loader.h"

namespace geopbft {

uint32_t TotalReplicas(const scenario::Scenario& s) {
  return s.topology().clusters() * s.topology().replicas_per_cluster();
}

uint32_t GroupSize(const scenario::Scenario& s) {
  return s.protocol().kind() != scenario::Protocol::PBFT ? s.topology().replicas_per_cluster() : TotalReplicas(s);
}

bool UsesReputation(const scenario::Scenario& s) {
  const auto& p = s.protocol();
  if (p.kind() == scenario::Protocol::GEOBFT_REPUTATION) return p.reputation().enabled();
  return p.kind() == scenario::Protocol::PBFT && p.has_reputation() && p.reputation().enabled();
}

ReputationParams ToReputationParams(const scenario::Reputation& r) {
  ReputationParams p;
  p.rule =
      r.rule() == scenario::Reputation::MY_PBFT ? ReputationParams::Rule::kMyPbft : ReputationParams::Rule::kDefault;
  p.initial = r.initial_score();
  p.consensus_weight = r.consensus_weight();
  p.consensus_cap = r.consensus_cap();
  p.transaction_cap = r.transaction_cap();
  p.agree_reward = r.agree_reward();
  p.miss_penalty = r.miss_penalty();
  p.forgiven_misses = r.forgiven_misses();
  p.miss_streak_cap = r.miss_streak_cap();
  p.against_penalty = r.against_penalty();
  p.view_change_penalty = r.view_change_penalty();
  p.history_weight = r.history_weight();
  p.history_decay = r.history_decay();
  p.reply_reward = r.reply_reward();
  p.reply_penalty = r.reply_penalty();
  p.eviction_threshold = r.eviction_threshold();
  p.reselect_every = r.reselect_every();
  p.committee_size = r.committee_size();
  p.seat_margin = r.seat_margin();
  p.complaint_penalty = r.complaint_penalty();
  p.lead_ban_rounds = r.lead_ban_rounds();
  p.complaint_lag_ms = r.complaint_lag_ms();
  p.complaint_rounds = r.complaint_rounds();
  p.complaint_commit_slots = r.complaint_commit_slots();
  p.complaint_commit_lag_ms = r.complaint_commit_lag_ms();
  return p;
}

uint32_t GroupFaults(const scenario::Scenario& s) {
  return s.topology().f() > 0 ? s.topology().f() : MaxFaults(GroupSize(s));
}

}  // namespace geopbft
