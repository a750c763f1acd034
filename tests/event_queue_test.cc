#include "sim/event_queue.h"

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

TEST(EventQueue, MatchesReferenceUnderRandomInterleaving) {
  // Reference: a multimap keyed by (time, insertion order).
  EventQueue<uint64_t> q;
  std::map<std::pair<TimeNs, uint64_t>, uint64_t> ref;
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
      TimeNs t;
      uint64_t v = q.Pop(&t);
      auto first = ref.begin();
      ASSERT_EQ(t, first->first.first);
      ASSERT_EQ(v, first->second);
      now = t;
      ref.erase(first);
    }
    ASSERT_EQ(q.size(), ref.size());
  }
}

}  // namespace
}  // namespace geopbft
