// The simulator's randomness: one seed, an independent xoshiro256** stream per actor, and our own
// distribution code (the standard library's distributions differ between implementations).
#ifndef GEOPBFT_SIM_RNG_H_
#define GEOPBFT_SIM_RNG_H_

#include <cstdint>

namespace geopbft {

// Kinds of actor that own a stream. The stream of (kind, id) depends only on the run's seed, the
// kind and the id, so adding a client does not change any other actor's draws.
enum class StreamKind : uint64_t { kReplica = 1, kClient = 2 };

class Rng {
 public:
  explicit Rng(uint64_t seed);
  static Rng ForStream(uint64_t run_seed, StreamKind kind, uint64_t id);

  uint64_t Next();
  // Uniform on [0, 1) with 53 bits.
  double Uniform01() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform01(); }
  // Uniform integer on [0, bound), bias-free (Lemire's method).
  uint64_t Below(uint64_t bound);
  // Normal by Box–Muller (one value per call; the twin is discarded so that a stream's position
  // never depends on earlier calls' parity).
  double Normal(double mean, double sd);
  double Exponential(double mean);
  bool Bernoulli(double p) { return p > 0 && Uniform01() < p; }

 private:
  uint64_t s_[4];
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_RNG_H_
