// A table keyed by a client's request timestamps, held as a window of slots indexed by timestamp.
// A client numbers its requests 1, 2, 3, ... and what it tracks (requests in flight, accepted ones
// whose late replies it still watches) covers a moving range of them: a lookup is one index into a
// ring, where a hash map probed its control bytes and then its slot (two cache misses per reply at
// the client, the hottest lookup of a GeoBFT run after execution itself).
//
// The window spans the lowest to the highest key present; slots of absent keys inside it stay
// empty, and empty slots at either end are dropped at once. Never iterated, so its layout cannot
// reach outputs. Keys are expected to stay within a bounded span (a request in flight for a long
// time holds the window open behind it, one empty slot per later request); a user that cannot
// promise it checks SpanWith first (the reply checker keeps far keys elsewhere).
#ifndef GEOPBFT_PROTOCOL_TIMESTAMP_WINDOW_H_
#define GEOPBFT_PROTOCOL_TIMESTAMP_WINDOW_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "protocol/ring_deque.h"

namespace geopbft {

template <typename T>
class TimestampWindow {
 public:
  // The value under `ts`, or null.
  T* Find(uint64_t ts) {
    if (ts < base_ || ts - base_ >= slots_.size()) return nullptr;
    Slot& s = slots_[ts - base_];
    return s.present ? &s.value : nullptr;
  }
  // Adds `ts` (not present) with a default value, and returns it.
  T& Insert(uint64_t ts) {
    if (slots_.empty()) {
      base_ = ts;
    } else if (ts < base_) {
      for (uint64_t k = base_ - ts; k > 0; --k) slots_.push_front(Slot{});
      base_ = ts;
    }
    if (ts - base_ >= slots_.size()) slots_.grow_to(ts - base_ + 1, Slot{});
    Slot& s = slots_[ts - base_];
    s.present = true;
    ++present_;
    return s.value;
  }
  // Removes `ts` (present), releasing its value at once.
  void Erase(uint64_t ts) {
    Slot& s = slots_[ts - base_];
    s = Slot{};
    --present_;
    while (!slots_.empty() && !slots_.front().present) {
      slots_.pop_front();
      ++base_;
    }
    while (!slots_.empty() && !slots_.back().present) slots_.pop_back();
  }
  // How many slots the window would span with `ts` added.
  uint64_t SpanWith(uint64_t ts) const {
    if (slots_.empty()) return 1;
    return std::max(ts + 1, base_ + slots_.size()) - std::min(ts, base_);
  }
  size_t size() const { return present_; }
  bool empty() const { return present_ == 0; }

 private:
  struct Slot {
    bool present = false;
    T value{};
  };
  uint64_t base_ = 0;  // the key of slots_.front()
  RingDeque<Slot> slots_;
  size_t present_ = 0;
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_TIMESTAMP_WINDOW_H_
