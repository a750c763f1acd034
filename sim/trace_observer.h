// The run's trace: every dispatched event folds into the digest (the run's fingerprint) and, with
// `run --trace`, becomes a line of trace.log. SentLogObserver writes the other half of --trace: the
// PRE-PREPAREs, COMMITs and CHECKPOINTs each replica sent (as sent, Byzantine rewriting included),
// for the auditor.
#ifndef GEOPBFT_SIM_TRACE_OBSERVER_H_
#define GEOPBFT_SIM_TRACE_OBSERVER_H_

#include <cstdint>
#include <cstdio>
#include <string>

#include "sim/observer.h"
#include "sim/topology.h"
#include "sim/trace.h"

namespace geopbft {

class TraceObserver : public Observer {
 public:
  // `sink`, when not null, receives trace.log lines; nodes are named after their regions.
  TraceObserver(std::FILE* sink, const Topology& topo);

  uint32_t interests() const override { return kEvents | kFinish; }
  void OnEvent(TimeNs now, const EventSeen& e) override;
  void OnFinish(TimeNs now) override { trace_.Finish(now); }

  std::string digest() const { return trace_.DigestHex(); }
  void SetFilter(const TraceFilter& f) { trace_.SetFilter(f); }

 private:
  Trace trace_;
  uint32_t replicas_;
};

// "<time_ns> <to or -1> <hex envelope>" per line.
class SentLogObserver : public Observer {
 public:
  explicit SentLogObserver(std::FILE* sink) : sink_(sink) {}
  uint32_t interests() const override { return kReplicaSteps; }
  void OnReplicaStep(TimeNs now, const ReplicaStep& s) override;

 private:
  std::FILE* sink_;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_TRACE_OBSERVER_H_
