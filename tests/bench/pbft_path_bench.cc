// A whole PBFT run in FAST crypto mode: n replicas, one client sending requests one after another,
// batch 1, zero CPU cost, normal(250 ms, 50 ms) one-way delays. Reports delivered protocol
// messages per wall second, the figure that bounds how many runs a sweep can afford.
#include "benchmark/benchmark.h"
#include "sim/scenario_loader.h"
#include "sim/simulation.h"

namespace geopbft {
namespace {

void BM_FlatPbftDecisions(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  LoadedScenario l = LoadScenarioText(R"(
    duration_s: 1000
    topology { clusters: 1 }
    network { uniform_delay { kind: NORMAL mean_ms: 250 sd_ms: 50 } }
    protocol { batch_size: 1 batch_timeout_ms: 0 }
    workload { mode: FIXED_COUNT count: 20 }
    cpu { base_us: 0 per_byte_ns: 0 sign_us: 0 verify_us: 0 mac_us: 0 hash_ns_per_byte: 0 }
  )", "bench", {"topology.replicas_per_cluster=" + std::to_string(n)});
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
  }
  state.counters["messages_per_s"] = benchmark::Counter(static_cast<double>(messages), benchmark::Counter::kIsRate);
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FlatPbftDecisions)->Arg(4)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace geopbft
