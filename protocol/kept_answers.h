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
  // The first index whose timestamp is >= `timestamp`.
  //
  // Timestamps are distinct and sorted, so the entry k places before the end is at most back - k:
  // `timestamp` cannot sit before index size-1-(back-timestamp). A client's timestamps are nearly
  // dense, so that index usually holds it: one probe, where a binary search over the ring touched a
  // cache line per step (an eighth of a default run's execution time went to those misses).
  // Otherwise a binary search of what is left finds the same index. Written out: the ring has no
  // iterators, and std::views::iota with std::ranges::partition_point does not compile with clang
  // against libstdc++ 12's ranges (the fuzz build uses clang).
  size_t LowerBound(uint64_t timestamp) const {
    size_t lo = 0, n = answers_.size();
    if (n == 0 || answers_.back().first < timestamp) return n;
    const uint64_t behind = answers_.back().first - timestamp;
    if (behind < n) {
      lo = n - 1 - static_cast<size_t>(behind);
      if (answers_[lo].first >= timestamp) return lo;  // (== : dense; > cannot happen)
      ++lo;
      n -= lo;
    }
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
