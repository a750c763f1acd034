#include "sim/rng.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace geopbft {
namespace {

std::vector<uint64_t> Draw(Rng r, int n) {
  std::vector<uint64_t> v;
  for (int i = 0; i < n; ++i) v.push_back(r.Next());
  return v;
}

TEST(Rng, SameSeedSameStream) {
  EXPECT_EQ(Draw(Rng::ForStream(7, StreamKind::kReplica, 3), 100),
            Draw(Rng::ForStream(7, StreamKind::kReplica, 3), 100));
}

TEST(Rng, StreamsAreIndependentOfEachOther) {
  // A stream depends only on (seed, kind, id): different ids, kinds or seeds differ.
  auto base = Draw(Rng::ForStream(7, StreamKind::kReplica, 3), 16);
  EXPECT_NE(base, Draw(Rng::ForStream(7, StreamKind::kReplica, 4), 16));
  EXPECT_NE(base, Draw(Rng::ForStream(7, StreamKind::kClient, 3), 16));
  EXPECT_NE(base, Draw(Rng::ForStream(8, StreamKind::kReplica, 3), 16));
}

TEST(Rng, UniformMomentsAndRange) {
  Rng r(1);
  double sum = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double u = r.Uniform01();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);
}

TEST(Rng, NormalMoments) {
  Rng r(2);
  const int n = 200000;
  double sum = 0, sq = 0;
  for (int i = 0; i < n; ++i) {
    double x = r.Normal(250, 50);
    sum += x;
    sq += x * x;
  }
  double mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
  EXPECT_NEAR(mean, 250, 0.5);
  EXPECT_NEAR(sd, 50, 0.5);
}

// Normal draws come in Box–Muller pairs: the two values of a pair must be uncorrelated, or link
// delays of consecutive messages would move together.
TEST(Rng, ConsecutiveNormalsAreUncorrelated) {
  Rng r(4);
  const int n = 200000;
  double sxy = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
  for (int i = 0; i < n; ++i) {
    const double x = r.Normal(0, 1), y = r.Normal(0, 1);
    sx += x;
    sy += y;
    sxy += x * y;
    sxx += x * x;
    syy += y * y;
  }
  const double cov = sxy / n - (sx / n) * (sy / n);
  const double rho = cov / std::sqrt((sxx / n - (sx / n) * (sx / n)) * (syy / n - (sy / n) * (sy / n)));
  EXPECT_LT(std::abs(rho), 0.01);
}

TEST(Rng, ExponentialMean) {
  Rng r(3);
  const int n = 200000;
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    double x = r.Exponential(10);
    ASSERT_GE(x, 0);
    sum += x;
  }
  EXPECT_NEAR(sum / n, 10, 0.1);
}

TEST(Rng, BelowIsUniformAndInRange) {
  Rng r(4);
  std::vector<int> counts(7);
  for (int i = 0; i < 70000; ++i) {
    uint64_t v = r.Below(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
}

}  // namespace
}  // namespace geopbft
