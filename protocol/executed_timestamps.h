// The timestamps of one client's requests that have executed: at-most-once bookkeeping. A client
// may have many requests outstanding and the network may reorder them, so execution is tracked per
// timestamp: everything up to `low`, plus the executed ones above it. Memory follows the number of
// requests in flight, not the length of the run.
//
// Above `low`, a bitmap covers the next kWindow timestamps (a closed-loop client's outstanding
// requests execute in batches, out of order, all within a few hundred of each other): setting and
// testing a bit is what every execution costs, where a search tree cost a descent, an insertion and
// a rebalancing erase (a sixth of a GeoBFT run). Timestamps beyond the window (a Byzantine client's
// far-future one) go to a sparse set, and move into the bitmap as the window slides over them.
#ifndef GEOPBFT_PROTOCOL_EXECUTED_TIMESTAMPS_H_
#define GEOPBFT_PROTOCOL_EXECUTED_TIMESTAMPS_H_

#include <bit>
#include <cstddef>
#include <cstdint>

#include "absl/container/btree_set.h"
#include "protocol/ring_deque.h"

namespace geopbft {

class ExecutedTimestamps {
 public:
  static constexpr uint64_t kWindow = 4096;  // timestamps above base_ held in the bitmap

  uint64_t low() const { return low_; }                // every timestamp <= low has executed
  size_t above_count() const { return above_count_; }  // executed timestamps > low

  bool Contains(uint64_t ts) const {
    if (ts <= low_) return true;
    if (ts - base_ < kWindow) return TestBit(ts);
    return far_.contains(ts);
  }

  // Records `ts` as executed; false when it already was.
  //
  // One test-and-set of its bit, where a lookup, an insertion and a drain each found it again:
  // batches arrive shuffled by the clients' jitter, so half the executions land above a gap and
  // this is every replica's work for every request. Only `ts` == low + 1 can move low (after each
  // insertion low + 1 is absent), so only then is there anything to drain.
  bool Insert(uint64_t ts) {
    if (ts <= low_) return false;
    if (above_count_ == 0) {
      if (ts == low_ + 1) {  // in order, nothing pending above
        low_ = ts;
        return true;
      }
      StartWindow();
    }
    const uint64_t off = ts - base_;
    if (off >= kWindow) {  // (ts > low + 1: nothing to drain)
      if (!far_.insert(ts).second) return false;
      ++above_count_;
      return true;
    }
    if (off / 64 >= words_.size()) words_.grow_to(off / 64 + 1, 0);
    uint64_t& word = words_[off / 64];
    const uint64_t bit = uint64_t{1} << (off % 64);
    if (word & bit) return false;
    word |= bit;
    ++above_count_;
    if (ts == low_ + 1) Drain();
    return true;
  }

  // Every executed timestamp above low, in increasing order.
  template <typename F>
  void ForEachAbove(F f) const {
    for (size_t w = 0; w < words_.size(); ++w) {
      for (uint64_t bits = words_[w]; bits != 0; bits &= bits - 1)
        f(base_ + 64 * w + static_cast<uint64_t>(std::countr_zero(bits)));
    }
    for (uint64_t ts : far_) f(ts);
  }

  // The state a snapshot describes: everything up to `low`, and `above` (each > low).
  template <typename Range>
  void Reset(uint64_t low, const Range& above) {
    *this = ExecutedTimestamps();
    low_ = low;  // (the first Add starts the window above it)
    for (uint64_t ts : above) {
      if (!Contains(ts)) Add(ts);
    }
    Drain();
  }

 private:
  static uint64_t Aligned(uint64_t ts) { return ts & ~uint64_t{63}; }
  bool TestBit(uint64_t ts) const {
    const uint64_t off = ts - base_;
    return off / 64 < words_.size() && (words_[off / 64] >> (off % 64)) & 1;
  }
  // `ts` > low and not yet recorded.
  // Nothing recorded above low (in-order execution moved it alone): the bitmap is all zero; it
  // starts again just above low.
  void StartWindow() {
    words_.clear();
    base_ = Aligned(low_ + 1);
  }
  void Add(uint64_t ts) {
    if (above_count_ == 0) StartWindow();
    ++above_count_;
    if (ts - base_ >= kWindow) {
      far_.insert(ts);
    } else {
      SetBit(ts);
    }
  }
  void SetBit(uint64_t ts) {  // ts in [base_, base_ + kWindow)
    const uint64_t off = ts - base_;
    if (off / 64 >= words_.size()) words_.grow_to(off / 64 + 1, 0);
    words_[off / 64] |= uint64_t{1} << (off % 64);
  }
  // Moves low up over what executed above it; slides the window, taking in what it now covers.
  void Drain() {
    for (;;) {
      const uint64_t next = low_ + 1;
      const uint64_t off = next - base_;
      if (off / 64 < words_.size()) {
        // The run of executed timestamps from `next` on within its word, taken at once (a gap that
        // closes releases the requests executed above it: a run of dozens).
        uint64_t& word = words_[off / 64];
        const unsigned run = static_cast<unsigned>(std::countr_one(word >> (off % 64)));
        if (run > 0) {
          word &= run + off % 64 == 64 ? (uint64_t{1} << (off % 64)) - 1 : ~(((uint64_t{1} << run) - 1) << (off % 64));
          low_ += run;
          above_count_ -= run;
          continue;
        }
      }
      if (!far_.empty() && *far_.begin() == next) {
        far_.erase(far_.begin());
      } else {
        break;
      }
      low_ = next;
      --above_count_;
    }
    // Whole words at or below low are empty now (their bits were drained): drop them.
    bool slid = false;
    while (!words_.empty() && base_ + 64 <= low_ + 1) {
      words_.pop_front();
      base_ += 64;
      slid = true;
    }
    if (words_.empty()) base_ = Aligned(low_ + 1), slid = true;
    if (!slid) return;
    while (!far_.empty() && *far_.begin() - base_ < kWindow) {
      SetBit(*far_.begin());
      far_.erase(far_.begin());
    }
  }

  uint64_t low_ = 0;
  uint64_t base_ = 0;  // the timestamp of bit 0 of words_[0], a multiple of 64, <= low_ + 1
  size_t above_count_ = 0;
  RingDeque<uint64_t> words_;      // bitmap of executed timestamps in [base_, base_ + 64 * size)
  absl::btree_set<uint64_t> far_;  // executed timestamps >= base_ + kWindow
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_EXECUTED_TIMESTAMPS_H_
