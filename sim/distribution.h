// Draws from a scenario Distribution (milliseconds) as integer nanoseconds, never negative.
#ifndef GEOPBFT_SIM_DISTRIBUTION_H_
#define GEOPBFT_SIM_DISTRIBUTION_H_

#include "protocol/types.h"
#include "scenarios/scenario.pb.h"
#include "sim/rng.h"

namespace geopbft {

// A distribution of kind NONE draws nothing from the stream, so turning jitter off keeps other
// draws (loss) where they were.
TimeNs DrawDelay(const scenario::Distribution& d, Rng& rng);

inline TimeNs MsToNs(double ms) { return static_cast<TimeNs>(ms * 1e6 + (ms >= 0 ? 0.5 : -0.5)); }

}  // namespace geopbft

#endif  // GEOPBFT_SIM_DISTRIBUTION_H_
