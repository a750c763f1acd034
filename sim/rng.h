// The simulator's randomness: one seed, an independent xoshiro256** stream per actor, and our own
// distribution code (the standard library's distributions differ between implementations).
#ifndef GEOPBFT_SIM_RNG_H_
#define GEOPBFT_SIM_RNG_H_

#include <cstdint>

namespace geopbft {

// Kinds of actor that own a stream. The stream of (kind, id) depends only on the run's seed, the
// kind and the id, so adding a client does not change any other actor's draws.
enum class StreamKind : uint64_t { kReplica = 1, kClient = 2, kTwin = 3 };

class Rng {
 public:
  explicit Rng(uint64_t seed);
  static Rng ForStream(uint64_t run_seed, StreamKind kind, uint64_t id);

  // Inline: the simulator draws once or more per delivered message.
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform on [0, 1) with 53 bits.
  double Uniform01() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform01(); }
  // Uniform integer on [0, bound), bias-free (Lemire's method).
  uint64_t Below(uint64_t bound) {
    if (bound == 0) return 0;
    unsigned __int128 m = static_cast<unsigned __int128>(Next()) * bound;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < bound) {
      const uint64_t threshold = -bound % bound;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(Next()) * bound;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }
  // Normal by Box–Muller. Each transform gives two independent values; the second is kept for the
  // stream's next Normal call (every link delay is a draw: the transform's log and sin/cos are a
  // visible share of a run). Deterministic like every draw: it depends on the stream's history only.
  double Normal(double mean, double sd);
  double Exponential(double mean);
  bool Bernoulli(double p) { return p > 0 && Uniform01() < p; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  double spare_ = 0;  // the second value of the last Box–Muller transform
  bool has_spare_ = false;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_RNG_H_
