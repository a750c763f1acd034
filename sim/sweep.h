// Sweeps (*.sweep.textproto, scenario.proto's Sweep): the cross product of axes x seeds over a base
// scenario, expanded into runs that `geopbft run` executes one by one (locally on worker processes,
// or as emitted job lines on many machines), and the results.csv that collects their summaries.
#ifndef GEOPBFT_SIM_SWEEP_H_
#define GEOPBFT_SIM_SWEEP_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/scenario.pb.h"

namespace geopbft {

struct SweepRun {
  std::string id;  // directory name under the sweep's output: "p<point>-s<seed>"
  uint32_t seed = 1;
  std::vector<std::pair<std::string, std::string>> axis_values;  // (column, value), in axis order
  std::vector<std::string> overrides;                            // --set assignments, in order
};

struct LoadedSweep {
  scenario::Sweep sweep;
  std::string name;
  std::string base_path;  // the base scenario, resolved against the sweep file's directory
  std::vector<SweepRun> runs;
  std::vector<std::string> errors;  // file:line:col or "run <id>: ..." problems; empty when usable
  bool ok() const { return errors.empty(); }
};

// Parses and expands a sweep file; every run's scenario is loaded and validated.
LoadedSweep LoadSweep(const std::string& path);

// The scalar fields of a summary.json written by `geopbft run`, read through output::Summary
// (sim/summary.proto) and flattened ("latency_ms_p50"), in schema order; the list of barred
// replicas is left out. Empty if the file is not a summary.
std::vector<std::pair<std::string, std::string>> SummaryScalars(const std::string& json);

// results.csv for `runs` whose directories are under `out_dir` (runs without a summary are left
// out). `done` receives how many were found.
std::string ResultsCsv(const LoadedSweep& sweep, const std::string& out_dir, size_t* done);

}  // namespace geopbft

#endif  // GEOPBFT_SIM_SWEEP_H_
