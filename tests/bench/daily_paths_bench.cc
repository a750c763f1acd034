// The runs users make every day, in delivered messages (and events) per wall second:
//  - the default scenario (GeoBFT with reputation, 4 x 6, one malicious voter, one slow replica),
//    its first 2 simulated seconds: the reply, evidence and certificate paths;
//  - scale-1000 (GeoBFT, 20 clusters x 50 replicas, saturated), its first 0.25 simulated seconds:
//    the engine and the global layer at a thousand replicas.
// Compare messages_per_s with pbft_path_bench's flat n = 64 figure: the default path should keep up.
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "sim/scenario_loader.h"
#include "sim/simulation.h"

namespace geopbft {
namespace {

void RunScenario(benchmark::State& state, const std::string& file, const std::vector<std::string>& overrides) {
  LoadedScenario l = LoadScenario(std::string(GEOPBFT_SOURCE_DIR) + "/scenarios/" + file, overrides);
  if (!l.ok()) {
    state.SkipWithError(l.errors[0].c_str());
    return;
  }
  uint64_t messages = 0, events = 0, completed = 0;
  for (auto _ : state) {
    Simulation sim(l.scenario, CryptoMode::kFast);
    sim.Run();
    messages += sim.messages_delivered();
    events += sim.events();
    completed += sim.completed_requests();
    if (sim.completed_requests() == 0) state.SkipWithError("nothing committed");
  }
  state.counters["messages_per_s"] = benchmark::Counter(static_cast<double>(messages), benchmark::Counter::kIsRate);
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["requests_per_run"] = static_cast<double>(completed) / static_cast<double>(state.iterations());
}

void BM_DefaultScenario(benchmark::State& state) { RunScenario(state, "default.textproto", {"duration_s=2"}); }
BENCHMARK(BM_DefaultScenario)->Unit(benchmark::kMillisecond);

void BM_Scale1000(benchmark::State& state) { RunScenario(state, "scale-1000.textproto", {"duration_s=0.25"}); }
BENCHMARK(BM_Scale1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace geopbft
