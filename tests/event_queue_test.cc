#include "sim/event_queue.h"

#include <algorithm>
#include <map>
#include <utility>

#include "gtest/gtest.h"
#include "sim/rng.h"

namespace geopbft {
namespace {

TEST(EventQueue, OrdersByTimeThenInsertion) {
  EventQueue<int> q;
  q.Push(30, 1);
  q.Push(10, 2);
  q.Push(30, 3);
  q.Push(10, 4);
  q.Push(20, 5);
  std::vector<std::pair<TimeNs, int>> got;
  while (!q.empty()) {
    TimeNs t;
    int v = q.Pop(&t);
    got.push_back({t, v});
  }
  std::vector<std::pair<TimeNs, int>> want = {{10, 2}, {10, 4}, {20, 5}, {30, 1}, {30, 3}};
  EXPECT_EQ(got, want);
}

// A burst leaves no lasting memory behind: a long run's queue visits every bucket at its busiest
// sooner or later, and memory that stayed with each bucket crept up for the whole run (the 600 s
// soak). 131,072 events within one 16.7 ms window land ~512 per 65 us bucket; once they are gone the
// queue keeps room for at most 32 entries per bucket.
TEST(EventQueue, GivesABurstsMemoryBackOnceItDrains) {
  EventQueue<int> q;
  Rng rng(7);
  for (int i = 0; i < 131072; ++i) q.Push(static_cast<TimeNs>(rng.Below(uint64_t{1} << 24)), i);
  EXPECT_GE(q.reserved(), 131072u);
  TimeNs t = 0;
  while (!q.empty()) q.Pop(&t);
  q.Push(t + 1, 0);  // one more event: the FIFO that held the last ones is refilled and let go
  q.Pop(&t);
  EXPECT_LE(q.reserved(), 8u * 256u * 32u);
}

using Reference = std::map<std::pair<TimeNs, uint64_t>, uint64_t>;

// Pops the queue's earliest event, checks it is the reference's earliest (time and payload), and
// returns its time.
TimeNs PopAndCompare(EventQueue<uint64_t>& q, Reference& ref) {
  TimeNs t;
  EXPECT_EQ(q.top_time(), ref.begin()->first.first);
  uint64_t v = q.Pop(&t);
  EXPECT_EQ(t, ref.begin()->first.first);
  EXPECT_EQ(v, ref.begin()->second);
  ref.erase(ref.begin());
  return t;
}

TEST(EventQueue, MatchesReferenceUnderRandomInterleaving) {
  // Reference: a multimap keyed by (time, insertion order).
  EventQueue<uint64_t> q;
  Reference ref;
  Rng r(9);
  uint64_t seq = 0;
  TimeNs now = 0;
  for (int step = 0; step < 100000; ++step) {
    if (ref.empty() || r.Below(3) != 0) {
      TimeNs t = now + static_cast<TimeNs>(r.Below(50));  // ties are frequent
      q.Push(t, seq);
      ref[{t, seq}] = seq;
      ++seq;
    } else {
      now = PopAndCompare(q, ref);
    }
    ASSERT_EQ(q.size(), ref.size());
  }
}

// Delays at every scale the queue distinguishes (each byte of the time, up to the top one), with
// bursts of equal times: events must still come out by (time, insertion order).
TEST(EventQueue, MatchesReferenceAtEveryTimeScale) {
  EventQueue<uint64_t> q;
  Reference ref;
  Rng r(17);
  uint64_t seq = 0;
  TimeNs now = 0, last_pushed = 0;
  for (int step = 0; step < 200000; ++step) {
    if (ref.empty() || r.Below(2) != 0) {
      TimeNs t;
      switch (r.Below(5)) {
        case 0:
          t = std::max(now, last_pushed);
          break;  // a tie with a pending event
        case 1:
          t = now + static_cast<TimeNs>(r.Below(300));
          break;
        case 2:
          t = now + static_cast<TimeNs>(r.Below(uint64_t{1} << (8 + r.Below(24))));
          break;
        case 3:
          t = now + static_cast<TimeNs>(r.Below(uint64_t{1} << (32 + r.Below(24))));
          break;
        default: {  // far ahead, up to 2^62 (no overflow however long the run)
          const uint64_t room = (uint64_t{1} << 62) > static_cast<uint64_t>(now) ? (uint64_t{1} << 62) - now : 1;
          t = now + static_cast<TimeNs>(r.Below(room));
          break;
        }
      }
      q.Push(t, seq);
      ref[{t, seq}] = seq;
      last_pushed = t;
      ++seq;
    } else {
      now = PopAndCompare(q, ref);
    }
    ASSERT_EQ(q.size(), ref.size());
  }
  while (!ref.empty()) PopAndCompare(q, ref);
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace geopbft
