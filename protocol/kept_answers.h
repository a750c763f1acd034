// The results of one client's latest executed requests, kept to answer a re-sent request whose
// replies were lost: at most `cap` of them, those of the highest timestamps. Requests execute
// nearly in timestamp order, so a sorted ring (deque) takes each new answer at its end and drops
// the oldest at its front; the rare out-of-order answer is inserted in place. (A search tree did the
// same work with a descent and a rebalancing erase per executed request: 10% of a GeoBFT run.)
#ifndef GEOPBFT_PROTOCOL_KEPT_ANSWERS_H_
#define GEOPBFT_PROTOCOL_KEPT_ANSWERS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>

namespace geopbft {

class KeptAnswers {
  // (First: the search's type is deduced from its body.)
  using Entry = std::pair<uint64_t, uint64_t>;  // timestamp, result
  template <typename Self>                      // KeptAnswers or const KeptAnswers: one search for both
  static auto LowerBound(Self& self, uint64_t timestamp) {
    return std::lower_bound(self.answers_.begin(), self.answers_.end(), timestamp,
                            [](const Entry& e, uint64_t ts) { return e.first < ts; });
  }
  std::deque<Entry> answers_;

 public:
  // Records the result of `timestamp` (executed once: at-most-once is checked before), keeping the
  // `cap` highest timestamps.
  void Add(uint64_t timestamp, uint64_t result, size_t cap) {
    if (answers_.empty() || answers_.back().first < timestamp) {
      answers_.emplace_back(timestamp, result);
    } else {
      auto at = LowerBound(*this, timestamp);
      if (at != answers_.end() && at->first == timestamp) {
        at->second = result;
      } else {
        answers_.emplace(at, timestamp, result);
      }
    }
    while (answers_.size() > cap) answers_.pop_front();
  }
  // The result of `timestamp`, if kept.
  const uint64_t* Find(uint64_t timestamp) const {
    auto at = LowerBound(*this, timestamp);
    return at != answers_.end() && at->first == timestamp ? &at->second : nullptr;
  }
  size_t size() const { return answers_.size(); }
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_KEPT_ANSWERS_H_
