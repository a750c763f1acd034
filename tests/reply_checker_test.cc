// The reply checker: what a client accepted must be what honest replicas computed.
#include "sim/reply_checker.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geopbft {
namespace {

using ::testing::HasSubstr;

constexpr NodeId kClient = 10;

TEST(ReplyChecker, AcceptsTheResultHonestReplicasComputed) {
  ReplyChecker c(3);
  for (NodeId r = 0; r < 3; ++r) c.OnExecuted(r, {kClient, 1, 0xabc}, 100);
  c.OnAccepted(kClient, {1, 0, 200, 0xabc});
  EXPECT_EQ(c.violations(), 0u);
  EXPECT_EQ(c.tracked(), 0u);  // executed everywhere and accepted: forgotten
}

TEST(ReplyChecker, AClientAcceptingAnotherResultIsAViolation) {
  ReplyChecker c(3);
  c.OnExecuted(0, {kClient, 7, 0xabc}, 100);
  c.OnAccepted(kClient, {7, 0, 200, 0xdef});
  EXPECT_EQ(c.violations(), 1u);
  EXPECT_THAT(c.first_violation(), HasSubstr("client 10 accepted result 0000000000000def for request 7"));
  EXPECT_THAT(c.first_violation(), HasSubstr("honest replica 0 computed 0000000000000abc"));
}

TEST(ReplyChecker, AResultBeforeAnyHonestExecutionIsAViolation) {
  // f+1 matching replies contain an honest one, sent after executing: acceptance cannot come first.
  ReplyChecker c(3);
  c.OnAccepted(kClient, {4, 0, 200, 0x1});
  EXPECT_EQ(c.violations(), 1u);
  EXPECT_THAT(c.first_violation(), HasSubstr("which no honest replica executed"));
}

TEST(ReplyChecker, HonestReplicasComputingDifferentResultsIsAViolation) {
  ReplyChecker c(3);
  c.OnExecuted(0, {kClient, 2, 0x10}, 100);
  c.OnExecuted(1, {kClient, 2, 0x10}, 110);
  c.OnExecuted(2, {kClient, 2, 0x11}, 120);
  EXPECT_EQ(c.violations(), 1u);
  EXPECT_THAT(c.first_violation(), HasSubstr("replica 2 executed request 2 of client 10 with result 0000000000000011"));
}

TEST(ReplyChecker, ForgetsTheOldestWhenReplicasNeverExecute) {
  // One honest replica is down for the whole run: entries never complete, memory stays bounded,
  // and an acceptance of a forgotten request is counted as unverified, not as a violation.
  ReplyChecker c(2);
  for (uint64_t ts = 1; ts <= 100000; ++ts) c.OnExecuted(0, {kClient, ts, ts}, 0);
  EXPECT_LE(c.tracked(), size_t{1} << 16);
  c.OnAccepted(kClient, {1, 0, 1, 1});
  c.OnAccepted(kClient, {100000, 0, 1, 100000});
  EXPECT_EQ(c.violations(), 0u);
  EXPECT_EQ(c.unverified(), 1u);
}

}  // namespace
}  // namespace geopbft
