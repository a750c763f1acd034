// The presence ring a GeoBFT replica answers "have I got this certificate?" from.
#include "protocol/round_presence.h"

#include "gtest/gtest.h"

namespace geopbft {
namespace {

TEST(RoundPresence, RemembersEachClusterOfEachRoundInTheRing) {
  RoundPresence p(8, 70);  // more clusters than one word holds
  EXPECT_TRUE(p.Covers(10, 10));
  EXPECT_TRUE(p.Covers(17, 10));
  EXPECT_FALSE(p.Covers(18, 10));
  EXPECT_FALSE(p.Covers(9, 10));
  p.Assign(12, 3, true);
  p.Assign(12, 69, true);
  EXPECT_TRUE(p.Test(12, 3));
  EXPECT_TRUE(p.Test(12, 69));
  EXPECT_FALSE(p.Test(12, 4));
  EXPECT_FALSE(p.Test(13, 3));
  p.Assign(12, 3, false);
  EXPECT_FALSE(p.Test(12, 3));
  EXPECT_TRUE(p.Test(12, 69));
}

TEST(RoundPresence, AnExecutedRoundsSlotServesTheRoundOneSpanLater) {
  RoundPresence p(8, 4);
  p.Assign(10, 1, true);
  EXPECT_TRUE(p.Test(18, 1));  // same slot: the caller must clear it when round 10 leaves
  p.ClearRound(10);
  EXPECT_FALSE(p.Test(18, 1));
  p.Assign(11, 2, true);
  p.ClearAll();
  EXPECT_FALSE(p.Test(11, 2));
}

}  // namespace
}  // namespace geopbft
