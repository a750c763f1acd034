// Pending events ordered by (time, insertion sequence): two events at the same instant run in the
// order they were scheduled, which makes every run a pure function of scenario and seed.
// Payloads live in a slab reused through a free list; the heap itself moves 24-byte keys only.
#ifndef GEOPBFT_SIM_EVENT_QUEUE_H_
#define GEOPBFT_SIM_EVENT_QUEUE_H_

#include <cstdint>
#include <algorithm>
#include <utility>
#include <vector>

#include "protocol/types.h"

namespace geopbft {

template <typename Payload>
class EventQueue {
 public:
  void Push(TimeNs time, Payload payload) {
    uint32_t slot;
    if (free_.empty()) {
      slot = static_cast<uint32_t>(slots_.size());
      slots_.push_back(std::move(payload));
    } else {
      slot = free_.back();
      free_.pop_back();
      slots_[slot] = std::move(payload);
    }
    heap_.push_back({time, next_seq_++, slot});
    SiftUp(heap_.size() - 1);
  }

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  TimeNs top_time() const { return heap_.front().time; }
  uint64_t scheduled() const { return next_seq_; }

  // Removes the earliest event; its time goes to *time.
  Payload Pop(TimeNs* time) {
    Entry top = heap_.front();
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) SiftDown(0);
    *time = top.time;
    free_.push_back(top.slot);
    return std::move(slots_[top.slot]);
  }

 private:
  struct Entry {
    TimeNs time;
    uint64_t seq;
    uint32_t slot;
  };
  static bool Before(const Entry& a, const Entry& b) {
    return a.time < b.time || (a.time == b.time && a.seq < b.seq);
  }
  // 4-ary heap: shallower than binary, and the four children share a cache line or two.
  void SiftUp(size_t i) {
    Entry e = heap_[i];
    while (i > 0) {
      size_t parent = (i - 1) / 4;
      if (!Before(e, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = e;
  }
  void SiftDown(size_t i) {
    Entry e = heap_[i];
    size_t n = heap_.size();
    while (true) {
      size_t first = 4 * i + 1;
      if (first >= n) break;
      size_t best = first;
      size_t last = std::min(first + 4, n);
      for (size_t c = first + 1; c < last; ++c) {
        if (Before(heap_[c], heap_[best])) best = c;
      }
      if (!Before(heap_[best], e)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = e;
  }

  std::vector<Entry> heap_;
  std::vector<Payload> slots_;
  std::vector<uint32_t> free_;
  uint64_t next_seq_ = 0;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_EVENT_QUEUE_H_
