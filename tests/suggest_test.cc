// "Did you mean": the closest names to a typo, and nothing when nothing is close.
#include "sim/suggest.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scenarios/scenario.pb.h"

namespace geopbft {
namespace {

using ::testing::ElementsAre;

TEST(Suggest, EditDistanceCountsEditsAndTranspositions) {
  EXPECT_EQ(EditDistance("clusters", "clusters"), 0u);
  EXPECT_EQ(EditDistance("cluster", "clusters"), 1u);
  EXPECT_EQ(EditDistance("topolgy", "topology"), 1u);  // a dropped letter
  EXPECT_EQ(EditDistance("GEOBTF", "GEOBFT"), 1u);     // two letters swapped
  EXPECT_EQ(EditDistance("Seed", "seed"), 0u);         // case does not count
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(Suggest, ProposesTheClosestFieldsBestFirst) {
  const std::vector<std::string> fields = FieldNames(*scenario::Topology::descriptor());
  const std::vector<std::string> close = ClosestNames("cluster", fields);
  ASSERT_FALSE(close.empty());
  EXPECT_EQ(close.front(), "clusters");
  EXPECT_EQ(DidYouMean("replica_per_cluster", fields), "; did you mean 'replicas_per_cluster'?");
}

TEST(Suggest, StaysQuietWhenNothingIsClose) {
  EXPECT_THAT(ClosestNames("hotstuff", EnumValueNames(*scenario::Protocol::Kind_descriptor())), ElementsAre());
  EXPECT_EQ(DidYouMean("zzz", {"seed", "out"}), "");
  EXPECT_EQ(DidYouMean("", {"seed"}), "");
}

TEST(Suggest, ListsSeveralWhenSeveralAreClose) {
  EXPECT_EQ(DidYouMean("--sed", {"--seed", "--set", "--out"}), "; did you mean one of '--seed', '--set'?");
}

}  // namespace
}  // namespace geopbft
