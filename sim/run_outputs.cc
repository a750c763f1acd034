#include "sim/run_outputs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/scenario_loader.h"

namespace geopbft {
namespace {

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Fixed formatting so that identical runs give identical bytes.
std::string Num(double v) { return absl::StrFormat("%.6f", v); }
double Ms(TimeNs t) { return static_cast<double>(t) / kMillisecond; }

// Per-cluster figures, as a JSON object keyed by cluster index (an object rather than a list keeps
// summary.json free of brackets, which shell tools comparing values treat as patterns).
// Messages sent by type, as a one-line object ({"PREPARE": n, ...}; types never sent left out).
std::string MessageMix(const Simulation& sim) {
  std::string out;
  const auto& counts = sim.messages_by_type();
  for (size_t t = 0; t < counts.size(); ++t) {
    if (counts[t] == 0) continue;
    absl::StrAppendFormat(&out, "%s%s: %d", out.empty() ? "" : ", ", JsonString(MsgTypeName(static_cast<MsgType>(t))),
                          counts[t]);
  }
  return absl::StrCat("{", out, "}");
}

std::string ClusterDetail(const Simulation& sim) {
  std::string out = "{";
  const auto& stats = sim.cluster_stats();
  for (uint32_t c = 0; c < stats.size(); ++c) {
    absl::StrAppendFormat(&out,
                          "%s\n    \"%d\": {\"region\": %s, \"committed_requests\": %d, "
                          "\"view_changes\": %d, \"wan_bytes\": %d}",
                          c ? "," : "", c, JsonString(sim.cluster_region(c)), stats[c].completed, stats[c].view_changes,
                          stats[c].wan_bytes);
  }
  return out + "\n  }";
}

std::string BarredJson(const Simulation& sim) {
  std::string out = "[";
  for (const Barred& b : sim.barred()) {
    absl::StrAppendFormat(&out, "%s{\"replica\": %d, \"cluster\": %d, \"round\": %d}", out.size() > 1 ? ", " : "",
                          b.replica, b.cluster, b.round);
  }
  return out + "]";
}

}  // namespace

std::string SummaryJson(const Simulation& sim, const WallStats& wall) {
  const scenario::Scenario& sc = sim.scenario();
  double sim_s = static_cast<double>(sim.now()) / kSecond;
  const LatencyHistogram& lat = sim.latency();
  std::vector<std::pair<std::string, std::string>> kv = {
      {"scenario", JsonString(sc.name())},
      {"protocol", JsonString(scenario::Protocol::Kind_Name(sc.protocol().kind()))},
      {"seed", absl::StrCat(sc.seed())},
      {"clusters", absl::StrCat(sc.topology().clusters())},
      {"replicas", absl::StrCat(sim.num_replicas())},
      {"f", absl::StrCat(sim.faults())},
      {"sim_seconds", Num(sim_s)},
      {"committed_requests", absl::StrCat(sim.completed_requests())},
      {"throughput_tps", Num(sim_s > 0 ? static_cast<double>(sim.completed_requests()) / sim_s : 0)},
      {"latency_ms",
       absl::StrFormat("{\"p50\": %s, \"p90\": %s, \"p99\": %s, \"mean\": %s}", Num(Ms(lat.Quantile(0.5))),
                       Num(Ms(lat.Quantile(0.9))), Num(Ms(lat.Quantile(0.99))), Num(Ms(lat.Mean())))},
      {"view_changes", absl::StrCat(sim.view_changes())},
      {"state_transfers", absl::StrCat(sim.state_transfers())},
      {"messages", absl::StrCat(sim.messages_sent())},
      {"message_mix", MessageMix(sim)},
      {"messages_delivered", absl::StrCat(sim.messages_delivered())},
      {"messages_lost", absl::StrCat(sim.messages_lost())},
      {"inbox_dropped", absl::StrCat(sim.inbox_dropped())},
      {"wan_bytes", absl::StrCat(sim.wan_bytes())},
      {"total_bytes", absl::StrCat(sim.total_bytes())},
      {"safety_violations", absl::StrCat(sim.safety_violations())},
      {"role_disagreements", absl::StrCat(sim.role_disagreements())},
      {"reply_violations", absl::StrCat(sim.reply_violations())},
      // Footprint of the honest replicas' protocol state (largest seen at a metrics sample), and
      // samples at which one broke a bound the protocol keeps by design (watermarks, table caps).
      {"peak_log_entries", absl::StrCat(sim.peak_log().value)},
      {"peak_state_entries", absl::StrCat(sim.peak_state().value)},
      {"bound_violations", absl::StrCat(sim.bound_violations())},
      {"reputation", sim.reputation() ? "true" : "false"},
      {"byzantine_in_committee_s", Num(sim.byzantine_in_committee_s())},
      {"representative_changes", absl::StrCat(sim.representative_changes())},
      // Reputation's defence: proofs of misbehaviour committed (each bars its culprit for good, at
      // the same round on every honest replica) and leaders deposed by committed complaints.
      {"proofs_committed", absl::StrCat(sim.barred().size())},
      {"barred", BarredJson(sim)},
      {"leaders_deposed", absl::StrCat(sim.depositions())},
      {"stalled", sim.stalled() ? "true" : "false"},
      {"cluster_detail", ClusterDetail(sim)},
      {"trace_digest", JsonString(sim.trace_digest())},
      {"events", absl::StrCat(sim.events())},
      {"wall_seconds", Num(wall.wall_seconds)},
      {"wall_events_per_second",
       Num(wall.wall_seconds > 0 ? static_cast<double>(sim.events()) / wall.wall_seconds : 0)},
      {"wall_messages_per_second",
       Num(wall.wall_seconds > 0 ? static_cast<double>(sim.messages_delivered()) / wall.wall_seconds : 0)},
      {"wall_max_rss_mb", Num(wall.max_rss_mb)},
  };
  std::string out = "{\n";
  for (size_t i = 0; i < kv.size(); ++i) {
    absl::StrAppend(&out, "  ", JsonString(kv[i].first), ": ", kv[i].second, i + 1 < kv.size() ? ",\n" : "\n");
  }
  return out + "}\n";
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

std::string ReputationCsv(const Simulation& sim) {
  std::string out = "time_s,cluster,replica,score,role,round\n";
  for (const Simulation::ReputationRow& r : sim.reputation_rows()) {
    absl::StrAppendFormat(&out, "%.6f,%d,%d,%.3f,%s,%d\n", r.time_s, r.cluster, r.replica, r.score, r.role, r.round);
  }
  return out;
}

std::string HumanSummary(const Simulation& sim, const WallStats& wall, const std::string& out_dir) {
  const scenario::Scenario& sc = sim.scenario();
  double sim_s = static_cast<double>(sim.now()) / kSecond;
  const LatencyHistogram& lat = sim.latency();
  std::string s = absl::StrFormat(
      "%s: %s, %d replicas in %d cluster(s), f=%d, seed %d\n"
      "  simulated %.3f s: %d requests committed, %.1f tps, latency p50 %.2f ms p99 %.2f ms\n"
      "  %d messages (%d lost), %.2f MB over the WAN, safety violations %d%s\n"
      "  %d events in %.2f s wall (%.2f M events/s), trace digest %s\n"
      "  outputs in %s\n",
      sc.name(), scenario::Protocol::Kind_Name(sc.protocol().kind()), sim.num_replicas(), sc.topology().clusters(),
      sim.faults(), sc.seed(), sim_s, sim.completed_requests(),
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
