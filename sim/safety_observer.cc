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
  for (const RequestResult& x : s.fx.results) replies_.OnExecuted(s.replica, x, now);
  for (const Execution& ex : s.fx.executed) agreement_.OnExecuted(s.replica, ex, now);
}

void SafetyObserver::OnClientStep(TimeNs now, const ClientStep& s) {
  for (const Completion& done : s.fx.completions) replies_.OnAccepted(s.client, done);
}

}  // namespace geopbft
