// PBFT's fault handling driven by hand: checkpoints and garbage collection, view change on a silent
// primary (with a prepared batch carried into the new view), forged NEW-VIEWs, state transfer.
#include <algorithm>

#include "gtest/gtest.h"
#include "protocol/pbft_replica.h"
#include "tests/pbft_test_group.h"

namespace geopbft {
namespace {

using testing::CountType;
using testing::PbftGroup;

TEST(PbftFaults, CheckpointsStabilizeAndCollectGarbage) {
  PbftGroup g(/*batch_size=*/1, /*window=*/8, /*checkpoint_interval=*/4);
  for (uint64_t ts = 1; ts <= 30; ++ts) {
    g.StepAndRoute(0, Input::Deliver(g.Request(ts)));
    g.Pump();
  }
  for (NodeId r = 0; r < 4; ++r) {
    EXPECT_EQ(g.replicas[r]->last_executed(), 30u);
    EXPECT_EQ(g.replicas[r]->stable_checkpoint(), 28u);
    // Only what is above the stable checkpoint is kept.
    EXPECT_LE(g.replicas[r]->log_size(), 2u) << "replica " << r;
    EXPECT_EQ(g.replicas[r]->state_chain(), g.replicas[0]->state_chain());
  }
}

// Replicas 1, 2 and 3 are in `view`, installed (not changing views).
void ExpectInView(const PbftGroup& g, uint64_t view) {
  for (NodeId r : {1u, 2u, 3u}) {
    EXPECT_EQ(g.replicas[r]->view(), view) << "replica " << r;
    EXPECT_FALSE(g.replicas[r]->view_changing()) << "replica " << r;
  }
}

// Replica 0 (primary of view 0) goes silent after its replicas prepared seq 1 but before anyone
// committed. The backups time out, change view, and the new primary re-proposes the prepared batch.
class ViewChangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g.StepAndRoute(0, Input::Deliver(g.Request(1)));  // batch of 1 (batch_size 1)
    // PRE-PREPARE reaches 1, 2, 3; they exchange PREPAREs; every COMMIT is lost.
    std::deque<std::pair<NodeId, MessagePtr>> q;
    q.swap(g.queue);
    original = q.front().second->batch_digest;
    for (auto& [to, m] : q) g.StepAndRoute(to, Input::Deliver(m));
    std::deque<std::pair<NodeId, MessagePtr>> prepares;
    prepares.swap(g.queue);
    for (auto& [to, m] : prepares) {
      if (m->type == MsgType::kPrepare && to != 0) g.StepAndRoute(to, Input::Deliver(m));
    }
    g.queue.clear();  // COMMITs lost
    g.cut.insert(0);  // the primary is gone
    // The client re-sends to everyone; backups wait for it, then suspect the primary.
    g.Broadcast(g.Request(1));
    g.queue.clear();
    for (NodeId r : {1u, 2u, 3u}) ASSERT_TRUE(g.timers[r].count(PbftReplica::kViewChangeTimer)) << r;
  }
  PbftGroup g{/*batch_size=*/1};
  Digest original;
};

TEST_F(ViewChangeTest, SilentPrimaryIsReplacedAndPreparedBatchSurvives) {
  for (NodeId r : {1u, 2u, 3u}) g.Fire(r, PbftReplica::kViewChangeTimer);
  g.Pump();
  for (NodeId r : {1u, 2u, 3u}) {
    EXPECT_EQ(g.replicas[r]->view(), 1u) << r;
    EXPECT_FALSE(g.replicas[r]->view_changing()) << r;
    ASSERT_EQ(g.executed[r].size(), 1u) << r;
    EXPECT_EQ(g.executed[r][0].seq, 1u);
    EXPECT_EQ(g.executed[r][0].digest, original);  // the batch that prepared in view 0
  }
  EXPECT_TRUE(g.replicas[1]->IsPrimary());
  // The new primary keeps going.
  g.StepAndRoute(1, Input::Deliver(g.Request(2)));
  g.Pump();
  for (NodeId r : {1u, 2u, 3u}) EXPECT_EQ(g.replicas[r]->last_executed(), 2u);
}

TEST_F(ViewChangeTest, FPlusOneViewChangesMakeAReplicaJoin) {
  // Only replicas 2 and 3 time out; replica 1 joins on their f+1 = 2 VIEW-CHANGEs.
  g.Fire(2, PbftReplica::kViewChangeTimer);
  g.Fire(3, PbftReplica::kViewChangeTimer);
  g.Pump();
  EXPECT_EQ(g.replicas[1]->view(), 1u);
  EXPECT_FALSE(g.replicas[2]->view_changing());
}

TEST_F(ViewChangeTest, AReplicaThatTimedOutAloneWaitsInItsViewForTheOthers) {
  // Replica 1 suspects the primary first; one VIEW-CHANGE is not enough for 2 and 3 to join.
  g.Fire(1, PbftReplica::kViewChangeTimer);
  g.Pump();
  EXPECT_EQ(g.replicas[1]->view(), 1u);
  EXPECT_TRUE(g.replicas[1]->view_changing());
  EXPECT_EQ(g.replicas[2]->view(), 0u);
  // Without 2f+1 VIEW-CHANGEs for view 1 it has no timer that would take it on to view 2 alone.
  EXPECT_FALSE(g.timers[1].count(PbftReplica::kViewChangeTimer));
  // When the others time out they find it in view 1, and view 1 is installed.
  g.Fire(2, PbftReplica::kViewChangeTimer);
  g.Fire(3, PbftReplica::kViewChangeTimer);
  g.Pump();
  ExpectInView(g, 1);
}

// No client re-sends anything: the backups know of the request only from the PRE-PREPARE, and
// every vote is lost. A proposal accepted and not executed makes them suspect the primary.
TEST(PbftFaults, ABackupSuspectsAPrimaryWhoseProposalDoesNotExecute) {
  PbftGroup g(/*batch_size=*/1);
  g.StepAndRoute(0, Input::Deliver(g.Request(1)));
  std::deque<std::pair<NodeId, MessagePtr>> q;
  q.swap(g.queue);
  for (auto& [to, m] : q) g.StepAndRoute(to, Input::Deliver(m));  // the PRE-PREPAREs
  g.queue.clear();                                                // every PREPARE lost
  g.cut.insert(0);
  for (NodeId r : {1u, 2u, 3u}) ASSERT_TRUE(g.timers[r].count(PbftReplica::kViewChangeTimer)) << r;
  for (NodeId r : {1u, 2u, 3u}) g.Fire(r, PbftReplica::kViewChangeTimer);
  g.Pump();
  ExpectInView(g, 1);
}

// A slot one COMMIT short while the next slot decides: the PRE-PREPARE of sequence number 1 is lost
// to replicas 5 and 6 and replica 4's PREPARE to the primary, so only four of the seven commit it;
// sequence number 2 decides everywhere. Every replica sees the gap and asks for repairs at the short
// period, and keeps asking while the gap stays open, even though late votes for the stuck slot
// still trickle in (such a vote used to send the replica back to the ordinary period, a quarter of
// the request timeout: at 2% loss, half a second during which a GeoBFT cluster held every round).
TEST(PbftFaults, ASlotOneCommitShortIsRepairedPromptlyOnceALaterSlotDecides) {
  PbftGroup g(/*batch_size=*/1, /*window=*/64, /*checkpoint_interval=*/16, /*n=*/7);
  constexpr NodeId kClientOf7 = 7;
  g.StepAndRoute(0, Input::Deliver(g.Request(1, kClientOf7)));
  std::vector<std::pair<NodeId, MessagePtr>> late;  // replica 1's COMMIT to 2, held back
  g.PumpWhere([&](NodeId to, const MessagePtr& m) {
    if (m->type == MsgType::kPrePrepare && (to == 5 || to == 6)) return false;
    if (m->type == MsgType::kPrepare && m->sender == 4 && to == 0) return false;
    if (m->type == MsgType::kCommit && m->sender == 1 && to == 2) return late.push_back({to, m}), false;
    return true;
  });
  for (NodeId r = 0; r < 7; ++r) ASSERT_TRUE(g.executed[r].empty()) << r;
  g.now += kMillisecond;
  g.StepAndRoute(0, Input::Deliver(g.Request(2, kClientOf7)));
  g.Pump();
  for (auto& [to, m] : late) g.StepAndRoute(to, Input::Deliver(m));  // progress on the stuck slot
  g.Pump();
  const TimeNs gap_seen = g.now;
  // Fire the timers in time order, as the simulator would, for 100 ms (a tenth of the request
  // timeout; the ordinary status period is a quarter of it).
  for (;;) {
    NodeId who = 0;
    uint64_t id = 0;
    TimeNs at = -1;
    for (auto& [r, ts] : g.timers) {
      for (auto& [t, when] : ts) {
        if (at < 0 || when < at) who = r, id = t, at = when;
      }
    }
    if (at < 0 || at > gap_seen + 100 * kMillisecond) break;
    g.Fire(who, id);
    g.Pump();
  }
  for (NodeId r = 0; r < 7; ++r) {
    ASSERT_EQ(g.executed[r].size(), 2u) << "replica " << r << " still waits on sequence number 1";
    EXPECT_EQ(g.executed[r][0].digest, g.executed[0][0].digest);
  }
}

// GeoBFT's remote view change makes an idle replica (nothing above its position, no request
// waiting) suspect its primary. Its VIEW-CHANGE may be lost; it must keep repeating it.
TEST(PbftFaults, AnIdleReplicaInAViewChangeRepeatsItsViewChange) {
  PbftGroup g(/*batch_size=*/1);
  Effects fx;
  g.replicas[2]->SuspectPrimary(g.now, fx);
  ASSERT_EQ(CountType(fx, MsgType::kViewChange), 1);
  bool status_timer = false;
  TimeNs at = 0;
  for (const TimerOp& t : fx.timers) {
    if (!t.cancel && t.id == PbftReplica::kStatusTimer) status_timer = true, at = t.at;
  }
  ASSERT_TRUE(status_timer);
  Effects again = g.replicas[2]->Step(at, Input::Timer(PbftReplica::kStatusTimer));
  EXPECT_EQ(CountType(again, MsgType::kViewChange), 1);
}

// Replica 3 missed sequence number 1, which 0, 1 and 2 executed; then the primary fails. In view 1
// the re-proposal of sequence number 1 is all 3 needs, but the PREPAREs to 1 and 2 are lost: they
// executed it already, so they commit it anyway (it can only be the batch they executed).
TEST(PbftFaults, ReplicasThatExecutedASlotCommitItsReproposal) {
  PbftGroup g(/*batch_size=*/1);
  g.cut.insert(3);
  g.StepAndRoute(0, Input::Deliver(g.Request(1)));
  g.Pump();
  ASSERT_EQ(g.replicas[1]->last_executed(), 1u);
  ASSERT_EQ(g.replicas[3]->last_executed(), 0u);
  g.cut = {0};
  g.Broadcast(g.Request(2));
  for (NodeId r : {1u, 2u, 3u}) g.Fire(r, PbftReplica::kViewChangeTimer);
  while (!g.queue.empty()) {
    auto [to, m] = g.queue.front();
    g.queue.pop_front();
    if (g.cut.count(to) || (m->type == MsgType::kPrepare && to != 3)) continue;
    g.StepAndRoute(to, Input::Deliver(m));
  }
  for (NodeId r : {1u, 2u, 3u}) EXPECT_EQ(g.replicas[r]->view(), 1u) << r;
  ASSERT_GE(g.executed[3].size(), 1u);
  EXPECT_EQ(g.executed[3][0].seq, 1u);
  EXPECT_EQ(g.executed[3][0].digest, g.executed[1][0].digest);
}

TEST(PbftFaults, ExecutedProposalsRaiseNoSuspicion) {
  PbftGroup g(/*batch_size=*/1);
  g.StepAndRoute(0, Input::Deliver(g.Request(1)));
  g.Pump();
  for (NodeId r : {1u, 2u, 3u}) {
    EXPECT_EQ(g.replicas[r]->last_executed(), 1u) << r;
    // The timer set on the PRE-PREPARE may still be pending; when it fires, nothing is awaited.
    g.Fire(r, PbftReplica::kViewChangeTimer);
  }
  EXPECT_TRUE(g.queue.empty());
  ExpectInView(g, 0);
}

TEST_F(ViewChangeTest, ForgedNewViewsAreRejected) {
  for (NodeId r : {1u, 2u, 3u}) g.Fire(r, PbftReplica::kViewChangeTimer);
  // Deliver the VIEW-CHANGEs to replica 1 only; keep its NEW-VIEW.
  std::deque<std::pair<NodeId, MessagePtr>> q;
  q.swap(g.queue);
  for (auto& [to, m] : q) {
    if (to == 1) g.StepAndRoute(1, Input::Deliver(m));
  }
  MessagePtr nv;
  for (auto& [to, m] : g.queue) {
    if (m->type == MsgType::kNewView) nv = m;
  }
  g.queue.clear();
  ASSERT_NE(nv, nullptr);
  Identity primary(&g.keys, 1);
  auto reseal = [&](wire::Envelope env, NodeId as) {
    OpCounts ops;
    env.clear_signature();
    return Seal(std::move(env), Identity(&g.keys, as), Auth::Signature(), ops);
  };
  // (a) A proposal replaced by another batch, properly signed by the new primary.
  wire::Envelope tampered = nv->env;
  wire::Batch other;
  other.add_requests()->mutable_request()->set_timestamp(77);
  *tampered.mutable_new_view()->mutable_batches(0) = other;
  tampered.mutable_new_view()->mutable_proposals(0)->set_digest(std::string(BatchDigest(other).view()));
  // (b) Too few VIEW-CHANGEs.
  wire::Envelope thin = nv->env;
  thin.mutable_new_view()->mutable_view_changes()->RemoveLast();
  // (c) Signed by a replica that is not the primary of view 1.
  for (const MessagePtr& bad : {reseal(tampered, 1), reseal(thin, 1), reseal(nv->env, 2)}) {
    Effects fx = g.replicas[3]->Step(0, Input::Deliver(bad));
    EXPECT_EQ(fx.rejected, 1u);
    EXPECT_TRUE(g.replicas[3]->view_changing());
  }
  // The genuine one is accepted.
  g.replicas[3]->Step(0, Input::Deliver(nv));
  EXPECT_FALSE(g.replicas[3]->view_changing());
  EXPECT_EQ(g.replicas[3]->view(), 1u);
}

TEST(PbftFaults, ALaggingReplicaCatchesUpByStateTransfer) {
  PbftGroup g(/*batch_size=*/1, /*window=*/8, /*checkpoint_interval=*/4);
  g.cut.insert(3);
  for (uint64_t ts = 1; ts <= 20; ++ts) {
    g.StepAndRoute(0, Input::Deliver(g.Request(ts)));
    g.Pump();
  }
  EXPECT_EQ(g.replicas[3]->last_executed(), 0u);
  g.cut.erase(3);
  // New traffic brings CHECKPOINTs far above replica 3: it fetches the certified state, then
  // follows the normal case.
  for (uint64_t ts = 21; ts <= 30; ++ts) {
    g.StepAndRoute(0, Input::Deliver(g.Request(ts)));
    g.Pump();
  }
  EXPECT_GE(g.replicas[3]->state_transfers(), 1u);
  EXPECT_EQ(g.replicas[3]->last_executed(), g.replicas[0]->last_executed());
  EXPECT_EQ(g.replicas[3]->state_chain(), g.replicas[0]->state_chain());
}

TEST(PbftFaults, ForgedStateIsRejected) {
  PbftGroup g(/*batch_size=*/1, /*window=*/8, /*checkpoint_interval=*/4);
  for (uint64_t ts = 1; ts <= 8; ++ts) {
    g.StepAndRoute(0, Input::Deliver(g.Request(ts)));
    g.Pump();
  }
  // Replica 1 answers a FETCH-STATE; tamper with the snapshot it sends.
  wire::Envelope fetch;
  fetch.mutable_fetch_state()->set_seq(8);
  fetch.mutable_fetch_state()->set_replica(3);
  OpCounts ops;
  Effects fx = g.replicas[1]->Step(0, Input::Deliver(Seal(fetch, Identity(&g.keys, 3), Auth::MacTo(1), ops)));
  ASSERT_EQ(CountType(fx, MsgType::kStateTransfer), 1);
  wire::Envelope transfer = fx.sends[0].msg->env;
  transfer.clear_macs();
  transfer.mutable_state_transfer()->mutable_snapshot()->set_chain(std::string(Sha256("forged").view()));
  MessagePtr forged = Seal(transfer, Identity(&g.keys, 1), Auth::MacTo(3), ops);
  // A fresh replica 3 that executed nothing.
  PbftConfig cfg = g.replicas[3]->config();
  PbftReplica fresh(cfg, Identity(&g.keys, 3));
  Effects r = fresh.Step(0, Input::Deliver(forged));
  EXPECT_EQ(r.rejected, 1u);
  EXPECT_EQ(fresh.last_executed(), 0u);
  // The genuine transfer is installed.
  fresh.Step(0, Input::Deliver(fx.sends[0].msg));
  EXPECT_EQ(fresh.last_executed(), 8u);
  EXPECT_EQ(fresh.state_chain(), g.replicas[1]->state_chain());
}

}  // namespace
}  // namespace geopbft
