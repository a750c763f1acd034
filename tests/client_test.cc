#include "protocol/client.h"

#include "gtest/gtest.h"

namespace geopbft {
namespace {

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() {
    cfg.replicas = {0, 1, 2, 3};
    cfg.f = 1;
    cfg.retransmit_timeout = 100 * kMillisecond;
  }
  MessagePtr Reply(NodeId replica, uint64_t ts, uint64_t result) {
    wire::Envelope env;
    auto* r = env.mutable_reply();
    r->set_client(kSelf);
    r->set_timestamp(ts);
    r->set_replica(replica);
    r->set_result(result);
    OpCounts ops;
    return Seal(env, Identity(&keys, replica), Auth::MacTo(kSelf), ops);
  }
  static constexpr NodeId kSelf = 4;
  KeyRing keys{1, CryptoMode::kFast};
  ClientConfig cfg;
};

TEST_F(ClientTest, AcceptsFPlusOneMatchingReplies) {
  cfg.mode = LoadMode::kFixedCount;
  cfg.count = 2;
  Client c(cfg, Identity(&keys, kSelf));
  Effects fx;
  c.Step(0, Input::Start(), fx);
  ASSERT_EQ(fx.sends.size(), 1u);
  EXPECT_EQ(fx.sends[0].to, 0u);  // the primary of view 0
  fx.Clear();
  c.Step(10, Input::Deliver(Reply(1, 1, 77)), fx);
  c.Step(11, Input::Deliver(Reply(1, 1, 77)), fx);  // same replica twice: one vote
  c.Step(12, Input::Deliver(Reply(2, 1, 99)), fx);  // disagrees
  EXPECT_TRUE(fx.completions.empty());
  c.Step(20, Input::Deliver(Reply(3, 1, 77)), fx);
  ASSERT_EQ(fx.completions.size(), 1u);
  EXPECT_EQ(fx.completions[0].completed - fx.completions[0].submitted, 20);
  EXPECT_EQ(fx.sends.size(), 1u);  // the next request, one after another
  EXPECT_FALSE(c.done());
}

TEST_F(ClientTest, RetransmitsToEveryReplicaWithBackoff) {
  Client c(cfg, Identity(&keys, kSelf));
  Effects fx;
  c.Step(0, Input::Start(), fx);  // closed loop, 1 outstanding
  ASSERT_EQ(fx.timers.size(), 1u);
  TimeNs first = fx.timers[0].at;
  EXPECT_EQ(first, 100 * kMillisecond);
  fx.Clear();
  c.Step(first, Input::Timer(1), fx);
  EXPECT_EQ(fx.sends.size(), 4u);
  ASSERT_EQ(fx.timers.size(), 1u);
  EXPECT_EQ(fx.timers[0].at, first + 200 * kMillisecond);
}

TEST_F(ClientTest, RejectsRepliesNotMeantForIt) {
  Client c(cfg, Identity(&keys, kSelf));
  Effects fx;
  c.Step(0, Input::Start(), fx);
  fx.Clear();
  auto [forged_ptr, forged] = MakeMessage(*Reply(1, 1, 5));
  forged->sender = 2;  // claims another replica
  forged->env.set_sender(2);
  c.Step(1, Input::Deliver(forged_ptr), fx);
  EXPECT_EQ(fx.rejected, 1u);
}

TEST_F(ClientTest, ClosedLoopKeepsOutstandingRequests) {
  cfg.outstanding = 5;
  Client c(cfg, Identity(&keys, kSelf));
  Effects fx;
  c.Step(0, Input::Start(), fx);
  EXPECT_EQ(fx.sends.size(), 5u);
  EXPECT_EQ(c.outstanding(), 5u);
}

}  // namespace
}  // namespace geopbft
