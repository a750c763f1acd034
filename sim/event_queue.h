// Pending events ordered by (time, insertion sequence): two events at the same instant run in the
// order they were scheduled, which makes every run a pure function of scenario and seed.
//
// A radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990) with 256-way digits (kDigitBits = 8; 11-bit
// digits cost 2.7 % more instructions on the message-path benchmark: fewer moves, more scanning).
// Simulated time never runs backwards, so every pending time is >= the last one popped (`last_`).
// An event whose time equals `last_` waits in a FIFO (insertion order: that is the tie-break). Any
// other event lives in the bucket named by the highest byte in which its time differs from `last_` (the level, 0-7) and
// that byte's value in its time (the digit). Buckets of a lower level, and of a lower digit within
// a level, hold earlier times. When the FIFO runs dry, the first non-empty bucket (found through
// occupancy bitmaps) becomes the next batch: at level 0 all its events share one time, so the whole
// bucket is swapped in without moving an event; at a higher level its minimum becomes `last_` and
// each event moves to a strictly lower level. So an event moves at most 8 times, and at simulated
// latencies (times differing in the low 4 bytes) at most 3. Equal times always share a bucket and
// move together in order, so insertion order survives. Payloads travel with their keys: moving them
// between buckets is sequential memory traffic, cheaper than a slab's random accesses once many
// events are pending.
#ifndef GEOPBFT_SIM_EVENT_QUEUE_H_
#define GEOPBFT_SIM_EVENT_QUEUE_H_

#include <algorithm>
#include <bit>
#include <cstdint>
#include <iterator>
#include <utility>
#include <vector>

#include "protocol/types.h"

namespace geopbft {

template <typename Payload, int kDigitBits = 8>
class EventQueue {
 public:
  EventQueue() : buckets_(kBuckets) { std::fill(std::begin(min_), std::end(min_), UINT64_MAX); }

  // `time` must not be earlier than the last time popped (the simulator never schedules into the
  // past).
  void Push(TimeNs time, Payload payload) {
    Place({static_cast<uint64_t>(time), std::move(payload)});
    ++size_;
    ++next_seq_;
  }

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  // The earliest pending time (the queue must not be empty).
  TimeNs top_time() {
    Refill();
    return static_cast<TimeNs>(last_);
  }
  uint64_t scheduled() const { return next_seq_; }
  // How many entries the queue's storage has room for (what it holds in memory, whatever is pending).
  size_t reserved() const {
    size_t n = fifo_.capacity();
    for (const std::vector<Entry>& b : buckets_) n += b.capacity();
    return n;
  }

  // Removes the earliest event; its time goes to *time.
  Payload Pop(TimeNs* time) {
    Refill();
    Entry& e = fifo_[head_++];
    --size_;
    *time = static_cast<TimeNs>(e.key);
    return std::move(e.payload);
  }

 private:
  struct Entry {
    uint64_t key;
    Payload payload;
  };
  static constexpr int kDigits = 1 << kDigitBits;
  static constexpr int kLevels = (64 + kDigitBits - 1) / kDigitBits;
  static constexpr int kBuckets = kLevels * kDigits;
  static constexpr int kWordsPerLevel = (kDigits + 63) / 64;
  // An emptied bucket keeps storage for up to this many entries and gives larger storage back
  // (2,048 buckets: 2.6 MB kept at most). Keeping every bucket's room up to 1,024 entries let the
  // total creep as a long run visits more buckets at their busiest: a default run's queue held
  // 360-520 K entries' room for 76 K pending events (14-21 MB), and its peak memory at 600 s was
  // 11% above its value at 60 s. The reallocations this costs do not show in event_queue_bench.
  static constexpr size_t kKeptCapacity = 32;

  void Place(Entry&& e) {
    const uint64_t diff = e.key ^ last_;
    if (diff == 0) {
      fifo_.push_back(std::move(e));
      return;
    }
    const int level = (std::bit_width(diff) - 1) / kDigitBits;
    const int b = level * kDigits + static_cast<int>((e.key >> (kDigitBits * level)) & (kDigits - 1));
    if (e.key < min_[b]) {
      if (min_[b] == UINT64_MAX) {
        occupied_[b >> 6] |= uint64_t{1} << (b & 63);
        if (nonempty_[level]++ == 0) levels_ |= 1u << level;
      }
      min_[b] = e.key;
    }
    buckets_[b].push_back(std::move(e));
  }

  // The first non-empty bucket (the queue holds an event outside the FIFO).
  int FirstBucket() const {
    const int level = std::countr_zero(levels_);
    for (int w = level * kWordsPerLevel;; ++w) {
      if (occupied_[w] != 0) return w * 64 + std::countr_zero(occupied_[w]);
    }
  }

  void MarkEmpty(int b) {
    min_[b] = UINT64_MAX;
    occupied_[b >> 6] &= ~(uint64_t{1} << (b & 63));
    const int level = b / kDigits;
    if (--nonempty_[level] == 0) levels_ &= ~(1u << level);
  }

  static void Release(std::vector<Entry>& v) {
    if (v.capacity() > kKeptCapacity) {
      std::vector<Entry>().swap(v);
    } else {
      v.clear();
    }
  }

  // Makes the FIFO hold the earliest events.
  void Refill() {
    if (head_ < fifo_.size()) return;
    fifo_.clear();
    head_ = 0;
    const int b = FirstBucket();
    std::vector<Entry>& from = buckets_[b];
    last_ = min_[b];
    MarkEmpty(b);
    if (b < kDigits) {
      // Level 0: every event of the bucket has time `last_`, already in insertion order.
      fifo_.swap(from);
      Release(from);
      return;
    }
    for (Entry& e : from) Place(std::move(e));  // in order: ties keep it
    Release(from);
  }

  std::vector<std::vector<Entry>> buckets_;
  std::vector<Entry> fifo_;  // events at time last_, from head_ on
  size_t head_ = 0;
  uint64_t min_[kBuckets];                            // each bucket's smallest time, UINT64_MAX when empty
  uint64_t occupied_[kLevels * kWordsPerLevel] = {};  // bit b: bucket b is not empty
  uint32_t nonempty_[kLevels] = {};                   // non-empty buckets of each level
  uint32_t levels_ = 0;                               // bit l: some bucket of level l is not empty
  uint64_t last_ = 0;
  size_t size_ = 0;
  uint64_t next_seq_ = 0;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_EVENT_QUEUE_H_
