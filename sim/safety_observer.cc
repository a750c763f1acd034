#include "sim/safety_observer.h"

#include "absl/strings/str_format.h"

namespace geopbft {

void SafetyObserver::OnReplicaStep(TimeNs now, const ReplicaStep& s) {
  if (!s.honest) return;
  for (const auto& [round, fingerprint] : s.fx.roles_chosen) {
    auto [it, first] = roles_by_round_.try_emplace(round, fingerprint);
    if (!first && it->second != fingerprint && role_disagreements_++ == 0) {
      first_role_disagreement_ = absl::StrFormat("replica %d chose other roles after round %d at %.6f s", s.replica,
                                                 round, static_cast<double>(now) / kSecond);
    }
    while (roles_by_round_.size() > 4096) roles_by_round_.erase(roles_by_round_.begin());
  }
  // Each execution's results follow one another in the step's results (ex.requests of them).
  size_t next = 0;
  for (const Execution& ex : s.fx.executed) {
    if (ex.requests > s.fx.results.size() - next) break;  // (not laid out so: one by one below)
    replies_.OnExecutedBatch(s.replica, ex.seq, s.fx.results.data() + next, ex.requests, now);
    next += ex.requests;
  }
  for (; next < s.fx.results.size(); ++next) replies_.OnExecuted(s.replica, s.fx.results[next], now);
  for (const Execution& ex : s.fx.executed) agreement_.OnExecuted(s.replica, ex, now);
}

void SafetyObserver::OnClientStep(TimeNs now, const ClientStep& s) {
  for (const Completion& done : s.fx.completions) replies_.OnAccepted(s.client, done);
}

}  // namespace geopbft
