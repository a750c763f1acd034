// Cost of the primitives behind --crypto=real (and of their FAST stand-ins), per operation.
#include "benchmark/benchmark.h"
#include "protocol/crypto.h"

namespace geopbft {
namespace {

CryptoMode ModeOf(const benchmark::State& s) { return s.range(0) ? CryptoMode::kReal : CryptoMode::kFast; }

void BM_Sign(benchmark::State& state) {
  KeyRing keys(1, ModeOf(state));
  Digest d = Sha256("message");
  for (auto _ : state) {
    d.bytes[0]++;
    benchmark::DoNotOptimize(keys.Sign(3, d));
  }
}
BENCHMARK(BM_Sign)->Arg(0)->Arg(1);

void BM_VerifyDistinct(benchmark::State& state) {
  KeyRing keys(1, ModeOf(state));
  Digest d = Sha256("message");
  std::vector<std::pair<Digest, std::string>> signed_;
  for (int i = 0; i < 256; ++i) {
    d.bytes[0] = static_cast<uint8_t>(i);
    signed_.push_back({d, keys.Sign(3, d)});
  }
  size_t i = 0;
  for (auto _ : state) {
    // A fresh ring every 256 so the memo does not hide the real cost.
    if (i % 256 == 0) state.PauseTiming(), keys.~KeyRing(), new (&keys) KeyRing(1, ModeOf(state)), state.ResumeTiming();
    auto& [dg, sig] = signed_[i++ % 256];
    benchmark::DoNotOptimize(keys.Verify(3, dg, sig));
  }
}
BENCHMARK(BM_VerifyDistinct)->Arg(0)->Arg(1);

void BM_Mac(benchmark::State& state) {
  KeyRing keys(1, ModeOf(state));
  Digest d = Sha256("message");
  for (auto _ : state) {
    d.bytes[0]++;
    benchmark::DoNotOptimize(keys.Mac(1, 2, d));
  }
}
BENCHMARK(BM_Mac)->Arg(0)->Arg(1);

void BM_Sha256(benchmark::State& state) {
  std::string data(state.range(0), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(data));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Sha256)->Arg(64)->Arg(4096);

}  // namespace
}  // namespace geopbft
