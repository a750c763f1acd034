// The results of one client's latest executed requests, kept to answer a re-sent request whose
// replies were lost: at most `cap` of them, those of the highest timestamps. Requests execute
// nearly in timestamp order, so a sorted ring takes each new answer at its end and drops
// the oldest at its front; the rare out-of-order answer is inserted in place. (A search tree did the
// same work with a descent and a rebalancing erase per executed request: 10% of a GeoBFT run.)
#ifndef GEOPBFT_PROTOCOL_KEPT_ANSWERS_H_
#define GEOPBFT_PROTOCOL_KEPT_ANSWERS_H_

#include <cstddef>
#include <cstdint>
#include <utility>

#include "protocol/ring_deque.h"

namespace geopbft {

class KeptAnswers {
  using Entry = std::pair<uint64_t, uint64_t>;  // timestamp, result
  // The first index whose timestamp is >= `timestamp`. Written out: the ring has no iterators, and
  // std::views::iota with std::ranges::partition_point does not compile with clang against
  // libstdc++ 12's ranges (the fuzz build uses clang).
  size_t LowerBound(uint64_t timestamp) const {
    size_t lo = 0, n = answers_.size();
    while (n > 0) {
      const size_t half = n / 2;
      if (answers_[lo + half].first < timestamp) {
        lo += half + 1;
        n -= half + 1;
      } else {
        n = half;
      }
    }
    return lo;
  }
  RingDeque<Entry> answers_;

 public:
  // Records the result of `timestamp` (executed once: at-most-once is checked before), keeping the
  // `cap` highest timestamps.
  void Add(uint64_t timestamp, uint64_t result, size_t cap) {
    if (answers_.empty() || answers_.back().first < timestamp) {
      answers_.push_back({timestamp, result});
    } else {
      const size_t at = LowerBound(timestamp);
      if (at < answers_.size() && answers_[at].first == timestamp) {
        answers_[at].second = result;
      } else {
        answers_.insert(at, {timestamp, result});
      }
    }
    while (answers_.size() > cap) answers_.pop_front();
  }
  // The result of `timestamp`, if kept.
  const uint64_t* Find(uint64_t timestamp) const {
    const size_t at = LowerBound(timestamp);
    return at < answers_.size() && answers_[at].first == timestamp ? &answers_[at].second : nullptr;
  }
  size_t size() const { return answers_.size(); }
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_KEPT_ANSWERS_H_
