#include "sim/run_events.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/byzantine.h"

namespace geopbft {

bool ReplicaAtSample::ByzantineActive(TimeNs now) const {
  for (const ByzantineBehaviour& b : *byzantine) {
    if (b.Active(now, state->rounds_executed())) return true;
  }
  return false;
}

void EventsObserver::OnFault(TimeNs now, const FaultSeen& f) {
  std::string detail = scenario::Fault::Kind_Name(f.fault.kind());
  if (f.fault.replicas_size() > 0) absl::StrAppend(&detail, " replicas ", absl::StrJoin(f.fault.replicas(), " "));
  if (f.fault.regions_size() > 0) absl::StrAppend(&detail, " regions ", absl::StrJoin(f.fault.regions(), " "));
  log_.Note(now, f.start ? "fault_start" : "fault_end", f.fault.replicas_size() == 1 ? f.fault.replicas(0) : -1, -1,
            detail);
}

void EventsObserver::OnSample(TimeNs now, const WorldAtSample& w) {
  for (uint32_t r = 0; r < w.replicas.size(); ++r) {
    const ReplicaAtSample& h = w.replicas[r];
    for (size_t b = 0; b < h.byzantine->size(); ++b) {
      const ByzantineBehaviour& behaviour = (*h.byzantine)[b];
      if (!behaviour.Active(now, h.state->rounds_executed()) || !byzantine_noted_.insert({r, b}).second) continue;
      const TimeNs at = behaviour.starts_at();
      log_.Note(at >= 0 ? at : now, "byzantine", r, static_cast<int64_t>(h.cluster), behaviour.Name());
    }
  }
}

}  // namespace geopbft
