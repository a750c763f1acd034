#include "sim/latency_histogram.h"

#include <bit>
#include <cmath>

namespace geopbft {

int LatencyHistogram::BucketOf(uint64_t us) {
  if (us < kExact) return static_cast<int>(us);
  int msb = 63 - std::countl_zero(us);  // >= 8
  int shift = msb - 7;
  int sub = static_cast<int>(us >> shift) - kSub;  // [0, 128)
  int b = kExact + (msb - 8) * kSub + sub;
  return b < kBuckets ? b : kBuckets - 1;
}

uint64_t LatencyHistogram::MidpointUs(int bucket) {
  if (bucket < kExact) return static_cast<uint64_t>(bucket);
  int msb = (bucket - kExact) / kSub + 8;
  int shift = msb - 7;
  uint64_t lower = static_cast<uint64_t>((bucket - kExact) % kSub + kSub) << shift;
  return lower + (uint64_t{1} << shift) / 2;
}

void LatencyHistogram::Record(TimeNs latency) {
  if (latency < 0) latency = 0;
  ++buckets_[BucketOf(static_cast<uint64_t>(latency) / 1000)];
  ++count_;
  sum_ += latency;
}

void LatencyHistogram::Clear() {
  buckets_.fill(0);
  count_ = 0;
  sum_ = 0;
}

TimeNs LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += buckets_[b];
    if (seen >= rank) return static_cast<TimeNs>(MidpointUs(b)) * 1000;
  }
  return static_cast<TimeNs>(MidpointUs(kBuckets - 1)) * 1000;
}

}  // namespace geopbft
