// At-most-once bookkeeping: a request executes once whatever order its copies arrive in, and the
// table's size follows the requests in flight, not the run's length.
#include "protocol/executed_timestamps.h"

#include "gtest/gtest.h"

namespace geopbft {
namespace {

TEST(ExecutedTimestamps, InOrderExecutionKeepsNothingAboveTheLowMark) {
  ExecutedTimestamps t;
  for (uint64_t ts = 1; ts <= 10'000; ++ts) ASSERT_TRUE(t.Insert(ts));
  EXPECT_EQ(t.low, 10'000u);
  EXPECT_TRUE(t.above.empty());
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
  EXPECT_EQ(t.low, 1u);
  EXPECT_EQ(t.above.size(), 2u);
  EXPECT_TRUE(t.Insert(2));  // fills the gap: everything up to 4 is now below the mark
  EXPECT_EQ(t.low, 4u);
  EXPECT_TRUE(t.above.empty());
  EXPECT_TRUE(t.Insert(5));  // and in-order execution resumes
  EXPECT_FALSE(t.Insert(2));
  EXPECT_EQ(t.low, 5u);
}

TEST(ExecutedTimestamps, InOrderArrivalAfterAGapStillDrainsWhatIsAbove) {
  ExecutedTimestamps t;
  EXPECT_TRUE(t.Insert(2));
  EXPECT_TRUE(t.Insert(1));  // low + 1, but 2 waits above: both must end below the mark
  EXPECT_EQ(t.low, 2u);
  EXPECT_TRUE(t.above.empty());
  EXPECT_FALSE(t.Insert(2));
}

}  // namespace
}  // namespace geopbft
