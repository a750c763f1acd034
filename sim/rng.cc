#include "sim/rng.h"

#include <cmath>

#include "protocol/types.h"

namespace geopbft {

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

double Rng::Normal(double mean, double sd) {
  if (has_spare_) {
    has_spare_ = false;
    return mean + sd * spare_;
  }
  const double u1 = 1.0 - Uniform01();  // (0, 1]
  const double u2 = Uniform01();
  const double r = std::sqrt(-2.0 * std::log(u1));
  spare_ = r * std::sin(2.0 * M_PI * u2);
  has_spare_ = true;
  return mean + sd * r * std::cos(2.0 * M_PI * u2);
}

double Rng::Exponential(double mean) { return -mean * std::log(1.0 - Uniform01()); }

}  // namespace geopbft
