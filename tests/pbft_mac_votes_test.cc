// Flat PBFT with MAC-authenticated COMMITs (protocol.pbft.vote_auth MACS, flat PBFT's default, as in
// the GeoBFT paper's PBFT): the normal case, repair by forwarded COMMITs, and a view change.
#include <deque>
#include <memory>

#include "gtest/gtest.h"
#include "protocol/pbft_replica.h"
#include "tests/pbft_test_group.h"

namespace geopbft {
namespace {

using testing::CountType;
using testing::PbftGroup;

PbftGroup MacGroup(uint32_t batch_size = 1) {
  return PbftGroup(batch_size, /*window=*/64, /*checkpoint_interval=*/16, /*n=*/4, /*mac_commits=*/true);
}

TEST(PbftMacVotes, CommitsCarryAnAuthenticatorAndEveryReplicaExecutes) {
  PbftGroup g = MacGroup();
  int commits = 0;
  g.StepAndRoute(0, Input::Deliver(g.Request(1)));
  // Look at every COMMIT on the way.
  g.PumpWhere([&](NodeId, const MessagePtr& m) {
    if (m->type == MsgType::kCommit) {
      ++commits;
      EXPECT_TRUE(m->env.signature().empty());
      EXPECT_EQ(MacBytes(m->env).size(), 4 * kMacSize);  // one tag per member (the sender's left blank)
    }
    return true;
  });
  EXPECT_GT(commits, 0);
  for (NodeId r = 0; r < 4; ++r) {
    ASSERT_EQ(g.executed[r].size(), 1u) << r;
    EXPECT_EQ(g.executed[r][0].digest, g.executed[0][0].digest);
  }
}

TEST(PbftMacVotes, AForgedCommitTagIsRejected) {
  PbftGroup g = MacGroup();
  g.StepAndRoute(0, Input::Deliver(g.Request(1)));
  g.PumpWhere([&](NodeId to, const MessagePtr& m) {
    if (m->type != MsgType::kCommit || to != 3) return true;
    // Replica 3's tag in the authenticator, flipped: only replica 3 can tell, and it drops it.
    auto [bad_ptr, bad] = MakeMessage(*m);
    char* tags = ResizeMacs(bad->env, MacBytes(bad->env).size());  // same size: writable, unchanged
    tags[3 * kMacSize] ^= 1;
    Effects fx = g.replicas[3]->Step(g.now, Input::Deliver(bad_ptr));
    EXPECT_EQ(fx.rejected, 1u);
    return false;
  });
}

// A backup that lost every COMMIT is repaired by a peer forwarding the ones it received: MAC'd
// COMMITs carry a tag for every member, so a forwarded one is still checkable by its receiver.
TEST(PbftMacVotes, ForwardedCommitsRepairAReplicaThatLostThem) {
  PbftGroup g = MacGroup();
  g.StepAndRoute(0, Input::Deliver(g.Request(1)));
  g.PumpWhere([](NodeId to, const MessagePtr& m) { return m->type != MsgType::kCommit || to != 3; });  // lost
  ASSERT_TRUE(g.executed[3].empty());
  // Its STATUS timer fires (the first time it may still see the slot gathering votes); the others
  // answer with what it misses.
  for (int i = 0; i < 3 && g.executed[3].empty(); ++i) {
    ASSERT_TRUE(g.Fire(3, PbftReplica::kStatusTimer));
    g.Pump();
  }
  ASSERT_EQ(g.executed[3].size(), 1u);
  EXPECT_EQ(g.executed[3][0].digest, g.executed[0][0].digest);
}

// The primary is gone after its batch prepared: the backups change view (VIEW-CHANGE and NEW-VIEW
// stay signed), the prepared batch survives, and the new primary goes on with MAC'd COMMITs.
TEST(PbftMacVotes, ViewChangeReplacesASilentPrimary) {
  PbftGroup g = MacGroup();
  g.StepAndRoute(0, Input::Deliver(g.Request(1)));
  std::deque<std::pair<NodeId, MessagePtr>> q;
  q.swap(g.queue);
  const Digest original = q.front().second->batch_digest;
  for (auto& [to, m] : q) g.StepAndRoute(to, Input::Deliver(m));  // PRE-PREPAREs
  std::deque<std::pair<NodeId, MessagePtr>> prepares;
  prepares.swap(g.queue);
  for (auto& [to, m] : prepares) {
    if (m->type == MsgType::kPrepare && to != 0) g.StepAndRoute(to, Input::Deliver(m));
  }
  g.queue.clear();  // COMMITs lost
  g.cut.insert(0);
  g.Broadcast(g.Request(1));
  g.queue.clear();
  for (NodeId r : {1u, 2u, 3u}) ASSERT_TRUE(g.Fire(r, PbftReplica::kViewChangeTimer)) << r;
  int signed_view_changes = 0;
  g.PumpWhere([&](NodeId, const MessagePtr& m) {
    if (m->type == MsgType::kViewChange || m->type == MsgType::kNewView)
      signed_view_changes += !m->env.signature().empty();
    return true;
  });
  EXPECT_GT(signed_view_changes, 0);
  for (NodeId r : {1u, 2u, 3u}) {
    EXPECT_EQ(g.replicas[r]->view(), 1u) << r;
    ASSERT_EQ(g.executed[r].size(), 1u) << r;
    EXPECT_EQ(g.executed[r][0].digest, original);
  }
  g.StepAndRoute(1, Input::Deliver(g.Request(2)));
  g.Pump();
  for (NodeId r : {1u, 2u, 3u}) EXPECT_EQ(g.replicas[r]->last_executed(), 2u) << r;
}

}  // namespace
}  // namespace geopbft
