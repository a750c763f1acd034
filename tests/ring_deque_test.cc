#include "protocol/ring_deque.h"

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "protocol/kept_answers.h"
#include "protocol/timestamp_window.h"
#include "sim/rng.h"

namespace geopbft {
namespace {

// The ring behaves as std::deque under any mix of operations, wrapping around its storage and
// growing and shrinking as it goes.
TEST(RingDeque, MatchesStdDequeUnderRandomOperations) {
  RingDeque<uint64_t> ring;
  std::deque<uint64_t> ref;
  Rng rng(11);
  for (int step = 0; step < 200000; ++step) {
    const uint64_t op = rng.Below(100), v = rng.Below(1u << 30);
    // Phases that fill and drain it, so it grows and shrinks several times.
    const bool filling = (step / 20000) % 2 == 0;
    if (op < (filling ? 35u : 15u)) {
      ring.push_back(v), ref.push_back(v);
    } else if (op < (filling ? 50u : 25u)) {
      ring.push_front(v), ref.push_front(v);
    } else if (op < 60 && !ref.empty()) {
      ring.pop_front(), ref.pop_front();
    } else if (op < 70 && !ref.empty()) {
      ring.pop_back(), ref.pop_back();
    } else if (op < 75) {
      const size_t at = rng.Below(ref.size() + 1);
      ring.insert(at, v), ref.insert(ref.begin() + static_cast<std::ptrdiff_t>(at), v);
    } else if (op < 76) {
      const size_t n = ref.size() + rng.Below(8);
      ring.grow_to(n, v), ref.resize(n, v);
    } else if (op == 99 && rng.Below(50) == 0) {
      ring.clear(), ref.clear();
    } else if (!ref.empty()) {
      const size_t at = rng.Below(ref.size());
      ring[at] = v, ref[at] = v;
    }
    ASSERT_EQ(ring.size(), ref.size()) << "step " << step;
    if (!ref.empty()) {
      ASSERT_EQ(ring.front(), ref.front()) << "step " << step;
      ASSERT_EQ(ring.back(), ref.back()) << "step " << step;
    }
  }
  for (size_t i = 0; i < ref.size(); ++i) ASSERT_EQ(ring[i], ref[i]);
}

TEST(RingDeque, GivesMemoryBackWhenItEmpties) {
  RingDeque<uint64_t> ring;
  for (uint64_t i = 0; i < 100000; ++i) ring.push_back(i);
  EXPECT_GE(ring.capacity(), 100000u);
  while (ring.size() > 3) ring.pop_front();
  EXPECT_EQ(ring.front(), 99997u);
  EXPECT_LE(ring.capacity(), 16u);
}

// Kept answers on the ring: out-of-order answers land in place, the oldest go first.
TEST(KeptAnswers, KeepsTheHighestTimestampsInOrder) {
  KeptAnswers kept;
  for (uint64_t ts : {1, 2, 4, 3, 6, 5, 9, 7, 8}) kept.Add(ts, ts * 10, 5);
  EXPECT_EQ(kept.size(), 5u);
  for (uint64_t ts = 1; ts <= 4; ++ts) EXPECT_EQ(kept.Find(ts), nullptr) << ts;
  for (uint64_t ts = 5; ts <= 9; ++ts) {
    ASSERT_NE(kept.Find(ts), nullptr) << ts;
    EXPECT_EQ(*kept.Find(ts), ts * 10);
  }
}

// An answer far out of order (beyond the few places looked at from the end) still lands in place.
TEST(KeptAnswers, TakesAnAnswerFarOutOfOrder) {
  KeptAnswers kept;
  for (uint64_t ts = 1; ts <= 200; ++ts) {
    if (ts != 50 && ts != 195) kept.Add(ts, ts + 1000, 256);
  }
  kept.Add(195, 2195, 256);  // a few places from the end
  kept.Add(50, 2050, 256);   // 150 places from the end
  kept.Add(120, 7, 256);     // already there: replaced
  EXPECT_EQ(kept.size(), 200u);
  for (uint64_t ts = 1; ts <= 200; ++ts) {
    ASSERT_NE(kept.Find(ts), nullptr) << ts;
    const uint64_t want = ts == 50 ? 2050 : ts == 195 ? 2195 : ts == 120 ? 7 : ts + 1000;
    EXPECT_EQ(*kept.Find(ts), want) << ts;
  }
  EXPECT_EQ(kept.Find(201), nullptr);
}

// Kept answers agree with a map of the cap highest timestamps, whatever the order and the gaps:
// dense runs (where the lookup takes its one-probe path), answers far out of order, timestamps
// that never come (where it falls back to the search).
TEST(KeptAnswers, MatchesTheHighestTimestampsOfAMap) {
  constexpr size_t kCap = 64;
  KeptAnswers kept;
  std::map<uint64_t, uint64_t> ref;
  Rng rng(13);
  std::vector<uint64_t> late;
  for (uint64_t ts = 1; ts <= 50000; ++ts) {
    const uint64_t r = rng.Below(100);
    if (r < 10) continue;  // never executed here
    if (r < 25) {
      late.push_back(ts);  // executed later, out of order
      continue;
    }
    kept.Add(ts, ts * 7, kCap), ref[ts] = ts * 7;
    while (!late.empty() && rng.Below(3) == 0) {
      const size_t at = rng.Below(late.size());
      const uint64_t t = late[at];
      late.erase(late.begin() + static_cast<std::ptrdiff_t>(at));
      kept.Add(t, t * 7, kCap), ref[t] = t * 7;
    }
    while (ref.size() > kCap) ref.erase(ref.begin());
    ASSERT_EQ(kept.size(), ref.size());
    for (uint64_t probe : {ts, ts - 1, ts - rng.Below(2 * kCap), rng.Below(ts + 2)}) {
      auto it = ref.find(probe);
      const uint64_t* got = kept.Find(probe);
      ASSERT_EQ(got != nullptr, it != ref.end()) << "ts " << ts << " probe " << probe;
      if (got) ASSERT_EQ(*got, it->second);
    }
  }
}

// A batch's answers kept at its end (BatchAnswers, KeptAnswers::AddSorted) leave every client's
// kept answers exactly as adding them one by one in execution order does: batches of interleaved
// clients shuffled as jitter shuffles them, late answers far below the newest, a full ring (the
// lowest evicted), and answers already kept (Add's rule: the new result replaces the old). Both
// ways a batch is sorted: placed (one to eight clients) and std::sort (more clients, or a run of
// timestamps too sparse for its size: a late answer far below a small batch's).
void KeepBatchesAndCompare(NodeId clients, uint64_t max_gap, bool repeats, uint64_t seed) {
  constexpr size_t kCap = 32;
  std::map<NodeId, KeptAnswers> batched, one_by_one;
  BatchAnswers batch;
  Rng rng(seed);
  std::vector<uint64_t> next(clients, 1);
  for (int round = 0; round < 3000; ++round) {
    std::vector<BatchAnswers::Answer> answers;
    for (NodeId client = 0; client < clients; ++client) {
      const uint64_t n = rng.Below(12);
      for (uint64_t i = 0; i < n; ++i) {
        answers.push_back({client, next[client], rng.Below(1000)});
        next[client] += 1 + (max_gap > 0 ? rng.Below(max_gap) : 0);
      }
      if (rng.Below(20) == 0 && next[client] > 80) {
        answers.push_back({client, next[client] - 40 - rng.Below(40), 5});  // late, or already kept
      }
      if (repeats && n > 0 && rng.Below(4) == 0) answers.push_back({client, next[client] - 1, 7});
    }
    for (size_t i = answers.size(); i > 1; --i) std::swap(answers[i - 1], answers[rng.Below(i)]);
    if (repeats) {
      // The later of two answers for one request wins in both (the batch's order is not stable
      // among equal keys): keep the last one only, as at-most-once would have.
      std::map<std::pair<NodeId, uint64_t>, size_t> last;
      for (size_t i = 0; i < answers.size(); ++i) last[{answers[i].client, answers[i].timestamp}] = i;
      std::vector<BatchAnswers::Answer> unique;
      for (size_t i = 0; i < answers.size(); ++i) {
        if (last[{answers[i].client, answers[i].timestamp}] == i) unique.push_back(answers[i]);
      }
      answers.swap(unique);
    }
    for (const auto& a : answers) {
      one_by_one[a.client].Add(a.timestamp, a.result, kCap);
      batch.Add(a.client, a.timestamp, a.result);
    }
    batch.KeepIn([&](NodeId client) -> KeptAnswers& { return batched[client]; }, kCap);
    for (NodeId client = 0; client < clients; ++client) {
      ASSERT_EQ(batched[client].size(), one_by_one[client].size()) << "round " << round;
      const uint64_t span = 100 * (1 + max_gap);
      for (uint64_t ts = next[client] > span ? next[client] - span : 1; ts < next[client]; ++ts) {
        const uint64_t *got = batched[client].Find(ts), *want = one_by_one[client].Find(ts);
        ASSERT_EQ(got != nullptr, want != nullptr) << "round " << round << " client " << client << " ts " << ts;
        if (got) ASSERT_EQ(*got, *want) << "round " << round << " client " << client << " ts " << ts;
      }
    }
  }
}

TEST(KeptAnswers, ABatchKeptAtItsEndIsKeptOneByOne) {
  KeepBatchesAndCompare(3, 0, false, 21);  // placed (and sorted where a late answer makes a run sparse)
  KeepBatchesAndCompare(1, 0, false, 22);
  KeepBatchesAndCompare(8, 0, false, 23);
  KeepBatchesAndCompare(12, 0, false, 24);  // more clients than are placed
  KeepBatchesAndCompare(3, 2, false, 25);   // runs with gaps (a client's timestamps are dense, but)
  KeepBatchesAndCompare(3, 2, true, 26);    // a request twice in a batch
}

// The client's timestamp-keyed tables behave as a map under the client's pattern: keys inserted
// mostly in increasing order, erased in any order (replies complete requests out of order), a key
// below the window now and then (an old request accepted late), and values released on erase.
TEST(TimestampWindow, MatchesAMapUnderAClientsPattern) {
  TimestampWindow<std::string> window;
  std::map<uint64_t, std::string> ref;
  Rng rng(12);
  uint64_t next = 1;
  for (int step = 0; step < 200000; ++step) {
    const uint64_t op = rng.Below(100);
    if (op < 40 && ref.size() < 400) {
      window.Insert(next) = std::to_string(next), ref[next] = std::to_string(next);
      ++next;
    } else if (op < 45 && next > 1) {
      const uint64_t ts = next - 1 - rng.Below(std::min<uint64_t>(next - 1, 2000));
      if (!ref.count(ts)) window.Insert(ts) = "late", ref[ts] = "late";
    } else if (op < 85 && !ref.empty()) {
      auto it = ref.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng.Below(std::min<uint64_t>(ref.size(), 50))));
      window.Erase(it->first), ref.erase(it);
    } else {
      const uint64_t ts = rng.Below(next + 10);
      const std::string* got = window.Find(ts);
      auto it = ref.find(ts);
      ASSERT_EQ(got != nullptr, it != ref.end()) << "step " << step << " ts " << ts;
      if (got) ASSERT_EQ(*got, it->second);
    }
    ASSERT_EQ(window.size(), ref.size());
    // Empty slots at either end are dropped: it spans exactly the lowest to the highest key.
    if (!ref.empty()) ASSERT_EQ(window.SpanWith(ref.begin()->first), ref.rbegin()->first - ref.begin()->first + 1);
  }
  for (const auto& [ts, v] : ref) ASSERT_EQ(*window.Find(ts), v);
}

}  // namespace
}  // namespace geopbft
