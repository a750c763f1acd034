// The original design's scoring preset, checked by hand and against its published experiment.
#include "protocol/my_pbft_scores.h"

#include "gtest/gtest.h"

namespace geopbft {
namespace {

// One round of four replicas (f = 1), primary 0: every member in `voting` sends a COMMIT listing the
// PREPARE voters it saw (the backups in `voting`).
void Round(MyPbftScores& s, const std::vector<uint32_t>& voting) {
  std::vector<uint32_t> prepares;
  for (uint32_t v : voting) {
    if (v != 0) prepares.push_back(v);
  }
  for (uint32_t v : voting) s.OnCommit(v, prepares);
  s.EndRound({0, 1, 2, 3}, 0);
}

TEST(MyPbftScores, OneRoundByHand) {
  MyPbftScores s(4, 1);
  Round(s, {0, 1, 2, 3});
  // Backup activity = f (own COMMIT) + 4 COMMITs listing it = 5: floor(4*5/3) + 4 + floor(4*0) = 10.
  EXPECT_EQ(s.score(1), 410);
  EXPECT_EQ(s.score(0), 412);  // mean gain of the active ones + 2
  MyPbftScores silent(4, 1);
  Round(silent, {0, 1, 2});
  // Replica 3 inactive with no history: -10 - (10 + 30) + 0 = -50.
  EXPECT_EQ(silent.score(3), 350);
  EXPECT_DOUBLE_EQ(silent.history_mean(3), -1.0);
}

TEST(MyPbftScores, ReproducesThePublishedSilentAtRound50Figure) {
  MyPbftScores s(4, 1);
  int reached_cap = 0;
  for (int round = 1; round <= 50; ++round) {
    Round(s, {0, 1, 2, 3});
    if (!reached_cap && s.score(3) == MyPbftScores::kCap) reached_cap = round;
  }
  // Honest replicas climb from 400 to the cap of 1000 in about 50 rounds.
  EXPECT_GT(reached_cap, 30);
  EXPECT_LE(reached_cap, 55);
  int at50 = s.score(3);
  for (int round = 51; round <= 76; ++round) Round(s, {0, 1, 2});
  // Then replica 3 turns silent: about 28 points per round, down to roughly 185 by round 76.
  double per_round = (at50 - s.score(3)) / 26.0;
  EXPECT_GT(per_round, 20);
  EXPECT_LT(per_round, 40);
  EXPECT_GT(s.score(3), 0);
  EXPECT_LT(s.score(3), MyPbftScores::kThreshold + 100);
  EXPECT_FALSE(s.eligible(3) && s.score(3) > 400);
  EXPECT_EQ(s.score(1), MyPbftScores::kCap);  // the honest ones stay at the top
}

}  // namespace
}  // namespace geopbft
