#include "sim/stall_observer.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace geopbft {

void StallObserver::OnFault(TimeNs now, const FaultSeen& f) {
  if (f.fault.kind() != scenario::Fault::PARTITION && f.fault.kind() != scenario::Fault::LINK) return;
  network_faults_ += f.start ? 1 : -1;
  last_progress_ = std::max(last_progress_, now);
}

void StallObserver::OnSample(TimeNs now, const WorldAtSample& w) {
  if (w.outstanding == 0 || network_faults_ > 0) last_progress_ = now;
  if (stalled_ || now - last_progress_ < stall_after_) return;
  stalled_ = true;
  Report(now, w);
}

void StallObserver::Report(TimeNs now, const WorldAtSample& w) {
  std::string& r = report_;
  absl::StrAppendFormat(&r,
                        "stall detected at %.3f s: no replica executed anything for %.3f s while "
                        "client requests were outstanding\n\n",
                        static_cast<double>(now) / kSecond, static_cast<double>(now - last_progress_) / kSecond);
  const auto& names = *region_names_;
  for (uint32_t i = 0; i < w.replicas.size(); ++i) {
    const ReplicaAtSample& h = w.replicas[i];
    // (A CPU busy far past now is a replica buried in work: its inbox waits for it.)
    absl::StrAppendFormat(&r, "replica %d (cluster %d, %s)%s: %s; inbox %d%s\n", i, h.cluster, names[i],
                          h.crashed ? " CRASHED" : "", h.state->Describe(), h.inbox,
                          h.cpu_busy_until > now ? absl::StrFormat(", CPU busy until %.3f s",
                                                                   static_cast<double>(h.cpu_busy_until) / kSecond)
                                                 : "");
  }
  for (uint32_t c = 0; c < w.clients.size(); ++c) {
    absl::StrAppendFormat(&r, "client %d (%s): %d requests outstanding, %d completed\n", w.replicas.size() + c,
                          names[w.replicas.size() + c], w.clients[c].outstanding, w.clients[c].completed);
  }
}

}  // namespace geopbft
