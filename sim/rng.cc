#include "sim/rng.h"

#include <cmath>

#include "protocol/types.h"

namespace geopbft {
namespace {
inline uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(uint64_t seed) {
  // splitmix64 expansion of the seed, as recommended by xoshiro's authors.
  uint64_t z = seed;
  for (uint64_t& s : s_) {
    z += 0x9e3779b97f4a7c15ULL;
    s = Mix64(z - 0x9e3779b97f4a7c15ULL);
  }
  if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;
}

Rng Rng::ForStream(uint64_t run_seed, StreamKind kind, uint64_t id) {
  return Rng(Mix64(run_seed ^ Mix64((static_cast<uint64_t>(kind) << 48) ^ Mix64(id))));
}

uint64_t Rng::Next() {
  uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t Rng::Below(uint64_t bound) {
  if (bound == 0) return 0;
  unsigned __int128 m = static_cast<unsigned __int128>(Next()) * bound;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < bound) {
    uint64_t threshold = -bound % bound;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(Next()) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

double Rng::Normal(double mean, double sd) {
  double u1 = 1.0 - Uniform01();  // (0, 1]
  double u2 = Uniform01();
  return mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

double Rng::Exponential(double mean) { return -mean * std::log(1.0 - Uniform01()); }

}  // namespace geopbft
