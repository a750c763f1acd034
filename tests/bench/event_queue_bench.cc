// Event queue: the classic hold model. Each iteration pops the earliest event and schedules one
// more at a random delay of 1-500 ms, keeping the number of pending events constant.
#include "benchmark/benchmark.h"
#include "sim/event_queue.h"
#include "sim/rng.h"

namespace geopbft {
namespace {

struct Payload {
  uint32_t target;
  uint64_t a;
};

void BM_HoldModel(benchmark::State& state) {
  const int64_t pending = state.range(0);
  EventQueue<Payload> q;
  Rng rng(1);
  auto delay = [&] { return kMillisecond + static_cast<TimeNs>(rng.Below(499 * kMillisecond)); };
  for (int64_t i = 0; i < pending; ++i) q.Push(delay(), {static_cast<uint32_t>(i), 0});
  uint64_t sink = 0;
  for (auto _ : state) {
    TimeNs now;
    Payload p = q.Pop(&now);
    sink += p.target;  // "dispatch"
    q.Push(now + delay(), p);
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_HoldModel)->Arg(1000)->Arg(100000);

}  // namespace
}  // namespace geopbft
