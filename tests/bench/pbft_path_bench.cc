// The message path: scenarios/bench-flat-pbft.textproto (flat PBFT, one client sending requests
// one after another, batch 1, zero CPU cost, normal(250 ms, 50 ms) one-way delays, FAST crypto)
// at n = 64, 128 and 256. Reports delivered protocol messages per wall second, the figure that
// bounds how many runs a sweep can afford; it should not fall as n grows (messages per decision
// grow as n^2, and so does the work).
#include <string>

#include "benchmark/benchmark.h"
#include "sim/scenario_loader.h"
#include "sim/simulation.h"

namespace geopbft {
namespace {

void BM_BenchFlatPbft(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  LoadedScenario l = LoadScenario(std::string(GEOPBFT_SOURCE_DIR) + "/scenarios/bench-flat-pbft.textproto",
                                  {"topology.replicas_per_cluster=" + std::to_string(n)});
  if (!l.ok()) {
    state.SkipWithError(l.errors[0].c_str());
    return;
  }
  uint64_t messages = 0, events = 0;
  for (auto _ : state) {
    Simulation sim(l.scenario, CryptoMode::kFast);
    sim.Run();
    messages += sim.messages_delivered();
    events += sim.events();
    if (sim.completed_requests() != l.scenario.workload().count()) state.SkipWithError("not every request committed");
  }
  state.counters["messages_per_s"] = benchmark::Counter(static_cast<double>(messages), benchmark::Counter::kIsRate);
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["messages_per_decision"] =
      static_cast<double>(messages) / static_cast<double>(state.iterations()) / l.scenario.workload().count();
}
BENCHMARK(BM_BenchFlatPbft)->Arg(64)->Arg(128)->Arg(256)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace geopbft
