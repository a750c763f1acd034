#include "sim/distribution.h"

#include <algorithm>

namespace geopbft {

TimeNs DrawDelay(const scenario::Distribution& d, Rng& rng) {
  double ms = 0;
  switch (d.kind()) {
    case scenario::Distribution::NONE:
      return 0;
    case scenario::Distribution::CONSTANT:
      ms = d.mean_ms();
      break;
    case scenario::Distribution::UNIFORM:
      ms = rng.Uniform(d.min_ms(), d.max_ms());
      break;
    case scenario::Distribution::NORMAL:
      ms = rng.Normal(d.mean_ms(), d.sd_ms());
      break;
    case scenario::Distribution::EXPONENTIAL:
      ms = rng.Exponential(d.mean_ms());
      break;
  }
  return std::max<TimeNs>(0, MsToNs(ms));
}

}  // namespace geopbft
