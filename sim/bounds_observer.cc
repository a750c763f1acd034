#include "sim/bounds_observer.h"

#include "absl/strings/str_format.h"

namespace geopbft {

void BoundsObserver::OnSample(TimeNs now, const WorldAtSample& w) {
  const double time_s = static_cast<double>(now) / kSecond;
  for (uint32_t r = 0; r < w.replicas.size(); ++r) {
    const ReplicaAtSample& h = w.replicas[r];
    if (!h.byzantine->empty()) continue;
    auto note = [&](Peak& p, size_t v) {
      if (v > p.value) p = {v, r, time_s};
    };
    note(peak_log_, h.state->log_size());
    note(peak_state_, h.state->state_entries());
    if (h.crashed) continue;
    if (std::string bound = h.state->BoundViolation(); !bound.empty() && violations_++ == 0) {
      first_violation_ = absl::StrFormat("at %.3f s replica %d: %s", time_s, r, bound);
    }
  }
}

}  // namespace geopbft
