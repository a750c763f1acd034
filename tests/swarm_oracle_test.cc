// The swarm's liveness oracle: after the last fault heals, every cluster's clients must complete a
// request within 4 s (two of the longest timeouts the swarm draws). A drawn scenario passes; the same scenario
// with one cluster's clients idle (so it never completes one) fails, and says which cluster and
// which bound.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/swarm.h"

namespace geopbft {
namespace {

using ::testing::HasSubstr;

TEST(SwarmOracle, EveryClusterMustCompleteWithinTheRecoveryBound) {
  SwarmOptions o;
  o.protocols = {scenario::Protocol::GEOBFT};
  scenario::Scenario s = DrawSwarmScenario(4000123, o);
  ASSERT_GE(s.topology().clusters(), 2u);
  SwarmVerdict ok = RunSwarmScenario(s, o);
  EXPECT_TRUE(ok.ok) << ok.failure;

  // GeoBFT fills an idle cluster's rounds with no-ops: the run goes on, but that cluster's clients
  // complete nothing, and the oracle must say so.
  s.mutable_workload()->add_idle_clusters(1);
  SwarmVerdict idle = RunSwarmScenario(s, o);
  EXPECT_FALSE(idle.ok);
  EXPECT_THAT(idle.failure, HasSubstr("liveness: cluster 1 completed no request within"));
  EXPECT_THAT(idle.failure, HasSubstr("within 4.0 s (two of the longest timeouts) of the last heal"));
}

}  // namespace
}  // namespace geopbft
