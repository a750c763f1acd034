// Log-linear latency histogram (exact below 256 us, then 128 sub-buckets per power of two: under
// 0.8% error). Fixed memory however long the run, and deterministic percentiles.
#ifndef GEOPBFT_SIM_LATENCY_HISTOGRAM_H_
#define GEOPBFT_SIM_LATENCY_HISTOGRAM_H_

#include <array>
#include <cstdint>

#include "protocol/types.h"

namespace geopbft {

class LatencyHistogram {
 public:
  void Record(TimeNs latency);
  void Clear();
  uint64_t count() const { return count_; }
  // The q-quantile (0 < q <= 1) in nanoseconds: the midpoint of the bucket holding the
  // ceil(q * count)-th smallest value; 0 when empty.
  TimeNs Quantile(double q) const;
  TimeNs Mean() const { return count_ ? sum_ / static_cast<TimeNs>(count_) : 0; }

 private:
  static constexpr int kExact = 256;
  static constexpr int kSub = 128;
  static constexpr int kBuckets = kExact + 56 * kSub;
  static int BucketOf(uint64_t us);
  static uint64_t MidpointUs(int bucket);

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  TimeNs sum_ = 0;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_LATENCY_HISTOGRAM_H_
