// Throughput, latency, messages, bytes, view changes and state transfers: run totals, per cluster
// (clusters.csv) and per metrics interval (timeseries.csv).
#ifndef GEOPBFT_SIM_METRICS_OBSERVER_H_
#define GEOPBFT_SIM_METRICS_OBSERVER_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "sim/latency_histogram.h"
#include "sim/observer.h"
#include "sim/run_events.h"

namespace geopbft {

// One row of timeseries.csv.
struct IntervalSample {
  double time_s = 0;
  double throughput_tps = 0;
  double latency_p50_ms = 0;
  double latency_p99_ms = 0;
  uint64_t completed = 0;
  uint64_t executed_batches = 0;
  uint64_t messages = 0;
  uint64_t wan_bytes = 0;
  uint64_t view_changes = 0;
  uint64_t outstanding = 0;
};

struct ClusterStats {
  uint64_t completed = 0;     // requests of this cluster's clients answered
  uint64_t view_changes = 0;  // views installed (flat PBFT: counted at the first replica installing it)
  uint64_t wan_bytes = 0;     // sent across regions by this cluster's replicas and clients
};

class MetricsObserver : public Observer {
 public:
  // `geo`: a view is a cluster's (GeoBFT) rather than the one group's. View changes go to `events`.
  MetricsObserver(uint32_t clusters, bool geo, RunEventLog* events)
      : geo_(geo), events_(events), cluster_stats_(clusters) {}

  uint32_t interests() const override { return kTransmissions | kDeliveries | kReplicaSteps | kClientSteps | kSamples; }
  void OnTransmit(TimeNs now, const Transmission& t) override;
  void OnDelivered(TimeNs now, NodeId to) override { ++messages_delivered_; }
  void OnReplicaStep(TimeNs now, const ReplicaStep& s) override;
  void OnClientStep(TimeNs now, const ClientStep& s) override;
  void OnSample(TimeNs now, const WorldAtSample& w) override;

  uint64_t completed_requests() const { return completed_; }
  const LatencyHistogram& latency() const { return latency_total_; }
  uint64_t messages_sent() const { return messages_sent_; }
  // Messages sent by type (index: the envelope's body case), for the message mix.
  const std::vector<uint64_t>& messages_by_type() const { return messages_by_type_; }
  uint64_t messages_delivered() const { return messages_delivered_; }
  uint64_t messages_lost() const { return messages_lost_; }
  uint64_t wan_bytes() const { return wan_bytes_; }
  uint64_t total_bytes() const { return total_bytes_; }
  uint64_t view_changes() const { return view_changes_; }
  uint64_t state_transfers() const { return state_transfers_; }
  const std::vector<ClusterStats>& cluster_stats() const { return cluster_stats_; }
  const std::vector<IntervalSample>& samples() const { return samples_; }

 private:
  // What the current interval counted (reset at each sample).
  struct Interval {
    uint64_t completed = 0, executed = 0, messages = 0, wan = 0, view_changes = 0;
    LatencyHistogram latency;
  };
  bool geo_;
  RunEventLog* events_;
  std::vector<ClusterStats> cluster_stats_;
  uint64_t completed_ = 0;
  LatencyHistogram latency_total_;
  Interval interval_;
  uint64_t view_changes_ = 0, state_transfers_ = 0;
  absl::btree_set<std::pair<uint32_t, uint64_t>> installed_views_;  // (cluster, view)
  uint64_t messages_sent_ = 0, messages_delivered_ = 0, messages_lost_ = 0;
  std::vector<uint64_t> messages_by_type_ = std::vector<uint64_t>(64, 0);
  uint64_t wan_bytes_ = 0, total_bytes_ = 0;
  std::vector<IntervalSample> samples_;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_METRICS_OBSERVER_H_
