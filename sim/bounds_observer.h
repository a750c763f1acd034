// Footprint and design bounds of the honest replicas, at every metrics sample: the largest log
// (slots / rounds kept) and the largest state_entries() seen, with who and when; and the samples at
// which a replica broke a bound it promises (Replica::BoundViolation), with the first one.
#ifndef GEOPBFT_SIM_BOUNDS_OBSERVER_H_
#define GEOPBFT_SIM_BOUNDS_OBSERVER_H_

#include <cstdint>
#include <string>

#include "sim/observer.h"

namespace geopbft {

class BoundsObserver : public Observer {
 public:
  struct Peak {
    size_t value = 0;
    NodeId replica = 0;
    double time_s = 0;
  };
  uint32_t interests() const override { return kSamples; }
  void OnSample(TimeNs now, const WorldAtSample& w) override;

  const Peak& peak_log() const { return peak_log_; }
  const Peak& peak_state() const { return peak_state_; }
  uint64_t violations() const { return violations_; }
  const std::string& first_violation() const { return first_violation_; }  // "at T s replica R: what"

 private:
  Peak peak_log_, peak_state_;
  uint64_t violations_ = 0;
  std::string first_violation_;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_BOUNDS_OBSERVER_H_
