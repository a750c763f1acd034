// The files a run writes (DESIGN §7): summary.json, timeseries.csv, replicas.csv, stall.txt,
// scenario.textproto. Each file is written under a temporary name and renamed into place, so a
// reader never sees half a file and a failed run leaves none behind.
#ifndef GEOPBFT_SIM_RUN_OUTPUTS_H_
#define GEOPBFT_SIM_RUN_OUTPUTS_H_

#include <string>

#include "absl/status/status.h"
#include "sim/simulation.h"
#include "sim/summary.pb.h"

namespace geopbft {

// What the run cost on this machine: not a function of scenario and seed, so outside determinism.
struct WallStats {
  double wall_seconds = 0;
  double max_rss_mb = 0;  // the process's peak resident memory (a sweep worker's: over its runs so far)
};

// summary.json: the run as an output::Summary (sim/summary.proto), printed by protobuf's JSON printer.
output::Summary SummaryOf(const Simulation& sim, const WallStats& wall);
std::string SummaryJson(const Simulation& sim, const WallStats& wall);
std::string TimeseriesCsv(const Simulation& sim);
std::string ReplicasCsv(const Simulation& sim);
std::string ReputationCsv(const Simulation& sim);  // reputation runs only
// What happened when: faults, Byzantine behaviours turning on, view changes, role changes, evictions.
std::string EventsCsv(const Simulation& sim);
// Per cluster: region, requests its clients committed, view changes, WAN bytes its replicas sent.
std::string ClustersCsv(const Simulation& sim);
// A few lines for a human at the terminal.
std::string HumanSummary(const Simulation& sim, const WallStats& wall, const std::string& out_dir);

absl::Status WriteFileAtomic(const std::string& path, const std::string& content);
absl::Status MakeDirs(const std::string& path);

}  // namespace geopbft

#endif  // GEOPBFT_SIM_RUN_OUTPUTS_H_
