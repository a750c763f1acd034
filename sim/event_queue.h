// Pending events ordered by (time, insertion sequence): two events at the same instant run in the
// order they were scheduled, which makes every run a pure function of scenario and seed.
//
// A radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990): simulated time never runs backwards, so every
// pending time is >= the last one popped (`last_`), and an event lives in bucket
// bit_width(time XOR last_). Bucket 0 holds the events at exactly `last_`, in insertion order (a
// FIFO: that is the tie-break). When it runs dry, the lowest non-empty bucket is split by its
// minimum: each event moves to a strictly lower bucket, so an event moves at most 64 times in all,
// and usually once or twice. Equal times always share a bucket and move together in order, so
// insertion order survives. Payloads travel with their keys: moving them between buckets is
// sequential memory traffic, cheaper than a slab's random accesses once many events are pending.
#ifndef GEOPBFT_SIM_EVENT_QUEUE_H_
#define GEOPBFT_SIM_EVENT_QUEUE_H_

#include <bit>
#include <cstdint>
#include <utility>
#include <vector>

#include "protocol/types.h"

namespace geopbft {

template <typename Payload>
class EventQueue {
 public:
  // `time` must not be earlier than the last time popped (the simulator never schedules into the
  // past).
  void Push(TimeNs time, Payload payload) {
    const uint64_t key = static_cast<uint64_t>(time);
    buckets_[BucketOf(key)].push_back({key, std::move(payload)});
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

  // Removes the earliest event; its time goes to *time.
  Payload Pop(TimeNs* time) {
    Refill();
    Entry& e = buckets_[0][head_++];
    --size_;
    *time = static_cast<TimeNs>(e.key);
    return std::move(e.payload);
  }

 private:
  struct Entry {
    uint64_t key;
    Payload payload;
  };
  static constexpr int kBuckets = 65;

  size_t BucketOf(uint64_t key) const { return static_cast<size_t>(std::bit_width(key ^ last_)); }

  // Makes bucket 0 hold the earliest events.
  void Refill() {
    std::vector<Entry>& zero = buckets_[0];
    if (head_ < zero.size()) return;
    zero.clear();
    head_ = 0;
    size_t i = 1;
    while (buckets_[i].empty()) ++i;  // the queue is not empty
    std::vector<Entry>& from = buckets_[i];
    uint64_t min = from.front().key;
    for (const Entry& e : from) min = e.key < min ? e.key : min;
    last_ = min;
    for (Entry& e : from) buckets_[BucketOf(e.key)].push_back(std::move(e));  // in order: ties keep it
    // A split bucket gives its memory back (it refills slowly, by pushes): otherwise every bucket
    // would keep the capacity of its fullest moment and memory would creep up over a long run.
    if (from.capacity() > 1024) {
      std::vector<Entry>().swap(from);
    } else {
      from.clear();
    }
  }

  std::vector<Entry> buckets_[kBuckets];
  size_t head_ = 0;  // next entry of bucket 0 to pop
  uint64_t last_ = 0;
  size_t size_ = 0;
  uint64_t next_seq_ = 0;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_EVENT_QUEUE_H_
