#include "sim/run_outputs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "sim/scenario_loader.h"

namespace geopbft {
namespace {

double Ms(TimeNs t) { return static_cast<double>(t) / kMillisecond; }

}  // namespace

output::Summary SummaryOf(const Simulation& sim, const WallStats& wall) {
  const double sim_s = static_cast<double>(sim.now()) / kSecond;
  const LatencyHistogram& lat = sim.latency();
  const auto count = [](uint64_t v) { return static_cast<double>(v); };
  output::Summary o;
  o.set_scenario(sim.label().scenario);
  o.set_protocol(sim.label().protocol);
  o.set_seed(sim.label().seed);
  o.set_clusters(sim.topology().clusters);
  o.set_replicas(sim.num_replicas());
  o.set_f(sim.faults());
  o.set_sim_seconds(sim_s);
  o.set_committed_requests(count(sim.completed_requests()));
  o.set_throughput_tps(sim_s > 0 ? static_cast<double>(sim.completed_requests()) / sim_s : 0);
  output::Latency* l = o.mutable_latency_ms();
  l->set_p50(Ms(lat.Quantile(0.5)));
  l->set_p90(Ms(lat.Quantile(0.9)));
  l->set_p99(Ms(lat.Quantile(0.99)));
  l->set_mean(Ms(lat.Mean()));
  o.set_view_changes(static_cast<uint32_t>(sim.view_changes()));
  o.set_state_transfers(static_cast<uint32_t>(sim.state_transfers()));
  o.set_messages(count(sim.messages_sent()));
  // Message types in MsgType order are MessageMix's fields 1.. in the same order.
  const auto& by_type = sim.messages_by_type();
  const google::protobuf::Descriptor* mix = output::MessageMix::descriptor();
  for (size_t t = 0; t < by_type.size(); ++t) {
    const google::protobuf::FieldDescriptor* f = mix->FindFieldByNumber(static_cast<int>(t));
    if (f != nullptr)
      o.mutable_message_mix()->GetReflection()->SetDouble(o.mutable_message_mix(), f, count(by_type[t]));
  }
  o.set_messages_delivered(count(sim.messages_delivered()));
  o.set_messages_lost(count(sim.messages_lost()));
  o.set_inbox_dropped(count(sim.inbox_dropped()));
  o.set_wan_bytes(count(sim.wan_bytes()));
  o.set_total_bytes(count(sim.total_bytes()));
  o.set_safety_violations(static_cast<uint32_t>(sim.safety_violations()));
  o.set_role_disagreements(static_cast<uint32_t>(sim.role_disagreements()));
  o.set_reply_violations(static_cast<uint32_t>(sim.reply_violations()));
  o.set_peak_log_entries(count(sim.peak_log().value));
  o.set_peak_state_entries(count(sim.peak_state().value));
  o.set_bound_violations(static_cast<uint32_t>(sim.bound_violations()));
  o.set_reputation(sim.reputation());
  o.set_byzantine_in_committee_s(sim.byzantine_in_committee_s());
  o.set_representative_changes(static_cast<uint32_t>(sim.representative_changes()));
  const std::vector<Barred> barred = sim.barred();
  o.set_proofs_committed(static_cast<uint32_t>(barred.size()));
  for (const Barred& b : barred) {
    output::Barred* ob = o.add_barred();
    ob->set_replica(b.replica);
    ob->set_cluster(b.cluster);
    ob->set_round(static_cast<uint32_t>(b.round));
  }
  o.set_leaders_deposed(static_cast<uint32_t>(sim.depositions()));
  o.set_stalled(sim.stalled());
  o.set_trace_digest(sim.trace_digest());
  o.set_events(count(sim.events()));
  o.set_wall_seconds(wall.wall_seconds);
  o.set_wall_events_per_second(wall.wall_seconds > 0 ? static_cast<double>(sim.events()) / wall.wall_seconds : 0);
  o.set_wall_messages_per_second(
      wall.wall_seconds > 0 ? static_cast<double>(sim.messages_delivered()) / wall.wall_seconds : 0);
  o.set_wall_max_rss_mb(wall.max_rss_mb);
  return o;
}

std::string SummaryJson(const Simulation& sim, const WallStats& wall) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  std::string json;
  // (Cannot fail: the message is built here, with no Any or unknown type in it.)
  (void)google::protobuf::util::MessageToJsonString(SummaryOf(sim, wall), &json, options);
  return json;
}

std::string TimeseriesCsv(const Simulation& sim) {
  std::string out =
      "time_s,throughput_tps,latency_ms_p50,latency_ms_p99,completed,executed_batches,messages,"
      "wan_bytes,view_changes,outstanding\n";
  for (const IntervalSample& s : sim.samples()) {
    absl::StrAppendFormat(&out, "%.6f,%.3f,%.3f,%.3f,%d,%d,%d,%d,%d,%d\n", s.time_s, s.throughput_tps, s.latency_p50_ms,
                          s.latency_p99_ms, s.completed, s.executed_batches, s.messages, s.wan_bytes, s.view_changes,
                          s.outstanding);
  }
  return out;
}

std::string ReplicasCsv(const Simulation& sim) {
  std::string out =
      "cluster,replica,region,behaviour,score,role,messages_sent,bytes_sent,messages_received,"
      "bytes_received,votes_sent,rejected,view,executed_seq,executed_requests,role_changes,evictions,inbox_dropped,cpu_"
      "busy_s\n";
  for (uint32_t i = 0; i < sim.num_replicas(); ++i) {
    Simulation::ReplicaView v = sim.replica(i);
    const ReplicaStats& s = *v.stats;
    // score is empty without reputation.
    absl::StrAppendFormat(&out, "%d,%d,%s,%s,%s,%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%.6f\n", v.cluster, v.id,
                          v.region, v.behaviour, v.score, v.role, s.messages_sent, s.bytes_sent, s.messages_received,
                          s.bytes_received, s.votes_sent, s.rejected, v.view, v.executed_seq, s.executed_requests,
                          v.role_changes, v.evictions, s.inbox_dropped, static_cast<double>(s.cpu_busy) / kSecond);
  }
  return out;
}

std::string ClustersCsv(const Simulation& sim) {
  std::string out = "cluster,region,committed_requests,view_changes,wan_bytes\n";
  const auto& stats = sim.cluster_stats();
  for (uint32_t c = 0; c < stats.size(); ++c) {
    absl::StrAppendFormat(&out, "%d,%s,%d,%d,%d\n", c, sim.cluster_region(c), stats[c].completed, stats[c].view_changes,
                          stats[c].wan_bytes);
  }
  return out;
}

std::string EventsCsv(const Simulation& sim) {
  std::string out = "time_s,kind,replica,cluster,detail\n";
  for (const Simulation::RunEvent& e : sim.run_events()) {
    absl::StrAppendFormat(&out, "%.6f,%s,%s,%s,%s\n", e.time_s, e.kind, e.replica < 0 ? "" : absl::StrCat(e.replica),
                          e.cluster < 0 ? "" : absl::StrCat(e.cluster), e.detail);
  }
  return out;
}

std::string ReputationCsv(const Simulation& sim) {
  std::string out = "time_s,cluster,replica,score,role,round\n";
  for (const Simulation::ReputationRow& r : sim.reputation_rows()) {
    absl::StrAppendFormat(&out, "%.6f,%d,%d,%.3f,%s,%d\n", r.time_s, r.cluster, r.replica, r.score, r.role, r.round);
  }
  return out;
}

std::string HumanSummary(const Simulation& sim, const WallStats& wall, const std::string& out_dir) {
  double sim_s = static_cast<double>(sim.now()) / kSecond;
  const LatencyHistogram& lat = sim.latency();
  std::string s = absl::StrFormat(
      "%s: %s, %d replicas in %d cluster(s), f=%d, seed %d\n"
      "  simulated %.3f s: %d requests committed, %.1f tps, latency p50 %.2f ms p99 %.2f ms\n"
      "  %d messages (%d lost), %.2f MB over the WAN, safety violations %d%s\n"
      "  %d events in %.2f s wall (%.2f M events/s), trace digest %s\n"
      "  outputs in %s\n",
      sim.label().scenario, sim.label().protocol, sim.num_replicas(), sim.topology().clusters, sim.faults(),
      sim.label().seed, sim_s, sim.completed_requests(),
      sim_s > 0 ? static_cast<double>(sim.completed_requests()) / sim_s : 0, Ms(lat.Quantile(0.5)),
      Ms(lat.Quantile(0.99)), sim.messages_sent(), sim.messages_lost(), static_cast<double>(sim.wan_bytes()) / 1e6,
      sim.safety_violations(), sim.stalled() ? ", STALLED (see stall.txt)" : "", sim.events(), wall.wall_seconds,
      wall.wall_seconds > 0 ? static_cast<double>(sim.events()) / wall.wall_seconds / 1e6 : 0, sim.trace_digest(),
      out_dir);
  if (sim.safety_violations() > 0) absl::StrAppend(&s, "  first violation: ", sim.first_violation(), "\n");
  if (sim.bound_violations() > 0) absl::StrAppend(&s, "  design bound broken: ", sim.first_bound_violation(), "\n");
  return s;
}

absl::Status WriteFileAtomic(const std::string& path, const std::string& content) {
  std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return absl::UnavailableError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status MakeDirs(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      std::string prefix = path.substr(0, i);
      if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
        return absl::UnavailableError(absl::StrCat("cannot create ", prefix, ": ", std::strerror(errno)));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace geopbft
