// At-most-once bookkeeping: a request executes once whatever order its copies arrive in, and the
// table's size follows the requests in flight, not the run's length.
#include "protocol/executed_timestamps.h"

#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace geopbft {
namespace {

TEST(ExecutedTimestamps, InOrderExecutionKeepsNothingAboveTheLowMark) {
  ExecutedTimestamps t;
  for (uint64_t ts = 1; ts <= 10'000; ++ts) ASSERT_TRUE(t.Insert(ts));
  EXPECT_EQ(t.low(), 10'000u);
  EXPECT_EQ(t.above_count(), 0u);
  EXPECT_FALSE(t.Insert(1));  // a retransmission of an old request does not execute again
  EXPECT_FALSE(t.Insert(10'000));
}

TEST(ExecutedTimestamps, OutOfOrderRequestsExecuteOnceAndTheGapClosesBehindThem) {
  ExecutedTimestamps t;
  EXPECT_TRUE(t.Insert(1));
  EXPECT_TRUE(t.Insert(3));
  EXPECT_TRUE(t.Insert(4));
  EXPECT_FALSE(t.Insert(3));  // duplicate above the gap
  EXPECT_FALSE(t.Contains(2));
  EXPECT_EQ(t.low(), 1u);
  EXPECT_EQ(t.above_count(), 2u);
  EXPECT_TRUE(t.Insert(2));  // fills the gap: everything up to 4 is now below the mark
  EXPECT_EQ(t.low(), 4u);
  EXPECT_EQ(t.above_count(), 0u);
  EXPECT_TRUE(t.Insert(5));  // and in-order execution resumes
  EXPECT_FALSE(t.Insert(2));
  EXPECT_EQ(t.low(), 5u);
}

TEST(ExecutedTimestamps, InOrderArrivalAfterAGapStillDrainsWhatIsAbove) {
  ExecutedTimestamps t;
  EXPECT_TRUE(t.Insert(2));
  EXPECT_TRUE(t.Insert(1));  // low + 1, but 2 waits above: both must end below the mark
  EXPECT_EQ(t.low(), 2u);
  EXPECT_EQ(t.above_count(), 0u);
  EXPECT_FALSE(t.Insert(2));
}

// The bitmap window against the obvious set, on a client whose requests execute shuffled within
// a few hundred of each other, with far-future timestamps (a Byzantine client's) and duplicates:
// same answers, same low mark, same timestamps above it in the same order; a snapshot of either
// restores the other.
TEST(ExecutedTimestamps, AgreesWithASetOnShuffledFarAndDuplicateTimestamps) {
  ExecutedTimestamps t;
  uint64_t low = 0;
  std::set<uint64_t> above;
  uint64_t x = 88172645463325252ull;  // xorshift: a fixed sequence
  auto next = [&x] { return x ^= x << 13, x ^= x >> 7, x ^= x << 17; };
  for (int i = 0; i < 200'000; ++i) {
    const uint64_t r = next();
    uint64_t ts = low + 1 + r % 700;                    // within the window, out of order
    if (r % 97 == 0) ts = low + 4096 + r % 20'000;      // beyond it
    if (r % 89 == 0) ts = low > 10 ? low - r % 10 : 1;  // an old one again
    const bool fresh = ts > low && !above.count(ts);
    ASSERT_EQ(t.Insert(ts), fresh) << "timestamp " << ts << " at step " << i;
    if (fresh) above.insert(ts);
    while (above.count(low + 1)) above.erase(++low);
    ASSERT_EQ(t.low(), low);
    ASSERT_EQ(t.above_count(), above.size());
    if (i % 10'000 == 0) {
      std::vector<uint64_t> listed;
      t.ForEachAbove([&listed](uint64_t v) { listed.push_back(v); });
      ASSERT_EQ(listed, std::vector<uint64_t>(above.begin(), above.end()));
      ExecutedTimestamps restored;
      restored.Reset(t.low(), listed);
      for (uint64_t probe = low; probe < low + 30'000; probe += 7)
        ASSERT_EQ(restored.Contains(probe), t.Contains(probe));
    }
  }
}

}  // namespace
}  // namespace geopbft
