#include "sim/metrics_observer.h"

#include "absl/strings/str_cat.h"

namespace geopbft {
namespace {

double NsToMs(TimeNs t) { return static_cast<double>(t) / kMillisecond; }

}  // namespace

void MetricsObserver::OnTransmit(TimeNs now, const Transmission& t) {
  ++messages_sent_;
  ++messages_by_type_[static_cast<size_t>(t.msg.type) % messages_by_type_.size()];
  ++interval_.messages;
  total_bytes_ += t.msg.wire_size;
  if (t.wan) {
    cluster_stats_[t.from_cluster].wan_bytes += t.msg.wire_size;
    wan_bytes_ += t.msg.wire_size;
    interval_.wan += t.msg.wire_size;
  }
  if (t.lost) ++messages_lost_;
}

void MetricsObserver::OnReplicaStep(TimeNs now, const ReplicaStep& s) {
  if (s.fx.views_installed > 0 && installed_views_.insert({geo_ ? s.cluster : 0, s.state.view()}).second) {
    ++view_changes_;
    ++interval_.view_changes;
    ++cluster_stats_[s.cluster].view_changes;
    events_->Note(now, "view_change", s.replica, geo_ ? s.cluster : -1, absl::StrCat("view ", s.state.view()));
  }
  if (s.fx.state_transferred_to > 0) ++state_transfers_;
  interval_.executed += s.fx.executed.size();
}

void MetricsObserver::OnClientStep(TimeNs now, const ClientStep& s) {
  for (const Completion& done : s.fx.completions) {
    ++completed_;
    ++cluster_stats_[s.cluster].completed;
    ++interval_.completed;
    latency_total_.Record(done.completed - done.submitted);
    interval_.latency.Record(done.completed - done.submitted);
  }
}

void MetricsObserver::OnSample(TimeNs now, const WorldAtSample& w) {
  IntervalSample s;
  s.time_s = static_cast<double>(now) / kSecond;
  const double span_s = static_cast<double>(now - w.since) / kSecond;
  s.completed = interval_.completed;
  s.throughput_tps = span_s > 0 ? static_cast<double>(interval_.completed) / span_s : 0;
  s.latency_p50_ms = NsToMs(interval_.latency.Quantile(0.5));
  s.latency_p99_ms = NsToMs(interval_.latency.Quantile(0.99));
  s.executed_batches = interval_.executed;
  s.messages = interval_.messages;
  s.wan_bytes = interval_.wan;
  s.view_changes = interval_.view_changes;
  s.outstanding = w.outstanding;
  samples_.push_back(s);
  interval_.completed = interval_.executed = interval_.messages = interval_.wan = interval_.view_changes = 0;
  interval_.latency.Clear();
}

}  // namespace geopbft
