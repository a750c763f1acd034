// PBFT driven by hand through Step(): every message is delivered explicitly, so each assertion is
// about what a replica does in response to exactly one input.
#include "protocol/pbft_replica.h"

#include <deque>
#include <map>
#include <memory>

#include "gtest/gtest.h"
#include "protocol/quorum.h"
#include "tests/pbft_test_group.h"

namespace geopbft {
namespace {

using testing::CountType;
using testing::PbftGroup;

TEST(PbftReplica, NormalCasePhasesStepByStep) {
  PbftGroup g;
  // First request: the primary waits for a full batch and arms the batch timer.
  Effects fx = g.StepAndRoute(0, Input::Deliver(g.Request(1)));
  EXPECT_EQ(CountType(fx, MsgType::kPrePrepare), 0);
  ASSERT_EQ(fx.timers.size(), 1u);
  EXPECT_EQ(fx.timers[0].id, PbftReplica::kBatchTimer);
  // Second request fills the batch: one PRE-PREPARE for seq 1 to the whole group.
  fx = g.StepAndRoute(0, Input::Deliver(g.Request(2)));
  ASSERT_EQ(CountType(fx, MsgType::kPrePrepare), 1);
  const Message& pp = *fx.sends[0].msg;
  EXPECT_EQ(fx.sends[0].to, kToGroup);
  EXPECT_EQ(pp.env.pre_prepare().seq(), 1u);
  EXPECT_EQ(pp.env.pre_prepare().view(), 0u);
  EXPECT_EQ(pp.env.pre_prepare().batch().requests_size(), 2);
  EXPECT_EQ(pp.payload_bytes, 200u);

  // A backup answers the PRE-PREPARE with a PREPARE.
  auto [to1, pp_msg] = g.queue.front();
  g.queue.pop_front();
  ASSERT_EQ(to1, 1u);
  fx = g.StepAndRoute(1, Input::Deliver(pp_msg));
  ASSERT_EQ(CountType(fx, MsgType::kPrepare), 1);
  EXPECT_EQ(fx.sends[0].msg->env.prepare().digest(), pp.env.pre_prepare().digest());

  // Everything else: all four execute seq 1 and each replies to the client for both requests.
  g.Pump();
  for (NodeId r = 0; r < 4; ++r) {
    ASSERT_EQ(g.executed[r].size(), 1u) << "replica " << r;
    EXPECT_EQ(g.executed[r][0].seq, 1u);
    EXPECT_EQ(g.executed[r][0].digest, pp.batch_digest);
    EXPECT_EQ(g.executed[r][0].requests, 2u);
    EXPECT_EQ(g.replicas[r]->last_executed(), 1u);
  }
  ASSERT_EQ(g.to_client.size(), 8u);
  std::map<uint64_t, std::set<uint64_t>> results;  // timestamp -> distinct results
  for (const MessagePtr& m : g.to_client)
    results[SealedEnvelope(*m).reply().timestamp()].insert(SealedEnvelope(*m).reply().result());
  EXPECT_EQ(results.size(), 2u);
  for (const auto& [ts, set] : results) EXPECT_EQ(set.size(), 1u) << "replicas disagree on ts " << ts;
}

TEST(PbftReplica, CommitCarriesPrepareEvidence) {
  PbftGroup g;
  g.StepAndRoute(0, Input::Deliver(g.Request(1)));
  g.StepAndRoute(0, Input::Deliver(g.Request(2)));
  // Deliver the PRE-PREPARE to 1 and 2 only, then PREPAREs among 0, 1, 2.
  std::vector<std::pair<NodeId, MessagePtr>> pps(g.queue.begin(), g.queue.end());
  g.queue.clear();
  g.StepAndRoute(1, Input::Deliver(pps[0].second));
  g.StepAndRoute(2, Input::Deliver(pps[1].second));
  // Route prepares only to replica 1 (from 2) and 0 (from 1 and 2).
  std::vector<std::pair<NodeId, MessagePtr>> prepares(g.queue.begin(), g.queue.end());
  g.queue.clear();
  Effects commit_fx;
  for (auto& [to, m] : prepares) {
    if (to == 1 && m->sender == 2) commit_fx = g.replicas[1]->Step(0, Input::Deliver(m));
  }
  ASSERT_EQ(CountType(commit_fx, MsgType::kCommit), 1);
  const wire::Commit& c = commit_fx.sends[0].msg->env.commit();
  ASSERT_EQ(c.prepare_evidence().size(), 1u);
  // Replica 1 saw its own PREPARE and replica 2's: bits 1 and 2.
  EXPECT_EQ(static_cast<uint8_t>(c.prepare_evidence()[0]), 0b0110);
  EXPECT_FALSE(commit_fx.sends[0].msg->env.signature().empty());  // COMMITs are signed
}

TEST(PbftReplica, BatchTimerProposesAPartialBatch) {
  PbftGroup g(/*batch_size=*/10);
  Effects fx = g.StepAndRoute(0, Input::Deliver(g.Request(1)));
  EXPECT_EQ(CountType(fx, MsgType::kPrePrepare), 0);
  g.now = kMillisecond;
  fx = g.StepAndRoute(0, Input::Timer(PbftReplica::kBatchTimer));
  ASSERT_EQ(CountType(fx, MsgType::kPrePrepare), 1);
  EXPECT_EQ(fx.sends[0].msg->env.pre_prepare().batch().requests_size(), 1);
}

// A PREPARE from `sender` for (view 0, seq 1) and the digest of `batch_label` (another proposal).
MessagePtr PrepareFor(PbftGroup& g, NodeId sender, const std::string& batch_label) {
  wire::Envelope env;
  env.mutable_prepare()->set_view(0);
  env.mutable_prepare()->set_seq(1);
  env.mutable_prepare()->set_digest(std::string(Sha256(batch_label).view()));
  env.mutable_prepare()->set_replica(sender);
  OpCounts ops;
  return Seal(env, Identity(&g.keys, sender), Auth::MacGroup(&g.members_), ops);
}

TEST(PbftReplica, VotesForAnotherDigestDoNotCount) {
  PbftGroup g;
  g.StepAndRoute(0, Input::Deliver(g.Request(1)));
  g.StepAndRoute(0, Input::Deliver(g.Request(2)));
  MessagePtr pp = g.queue.front().second;
  g.queue.clear();
  g.replicas[1]->Step(0, Input::Deliver(pp));
  // Replica 3 prepares a different digest (vote against): replica 1 must not count it.
  for (NodeId liar : {3u}) {
    Effects fx = g.replicas[1]->Step(0, Input::Deliver(PrepareFor(g, liar, "something else")));
    EXPECT_EQ(CountType(fx, MsgType::kCommit), 0);
  }
  EXPECT_NE(g.replicas[1]->Describe().find("waiting for PREPAREs (1 of 2)"), std::string::npos)
      << g.replicas[1]->Describe();
}

TEST(PbftReplica, FPlusOnePreparesForAnotherDigestProveEquivocation) {
  PbftGroup g;
  g.StepAndRoute(0, Input::Deliver(g.Request(1)));
  g.StepAndRoute(0, Input::Deliver(g.Request(2)));
  MessagePtr pp = g.queue.front().second;
  g.queue.clear();
  g.replicas[1]->Step(0, Input::Deliver(pp));
  // Two backups (f+1: one of them correct) prepared another proposal for the same slot: the primary
  // sent different PRE-PREPAREs. Replica 1 asks for a new view at once, without waiting for a timer.
  int view_changes = 0;
  for (NodeId other : {2u, 3u}) {
    Effects fx = g.replicas[1]->Step(0, Input::Deliver(PrepareFor(g, other, "the other proposal")));
    EXPECT_EQ(CountType(fx, MsgType::kCommit), 0);
    view_changes += CountType(fx, MsgType::kViewChange);
  }
  EXPECT_EQ(view_changes, 1);
  EXPECT_TRUE(g.replicas[1]->view_changing());
  EXPECT_EQ(g.replicas[1]->equivocations_seen(), 1u);
}

TEST(PbftReplica, DuplicateVotesCountOnce) {
  PbftGroup g;
  g.StepAndRoute(0, Input::Deliver(g.Request(1)));
  g.StepAndRoute(0, Input::Deliver(g.Request(2)));
  MessagePtr pp = g.queue.front().second;
  g.queue.clear();
  g.replicas[1]->Step(0, Input::Deliver(pp));
  Effects fx2 = g.replicas[2]->Step(0, Input::Deliver(pp));
  MessagePtr prepare2 = fx2.sends[0].msg;
  // Replica 2's PREPARE delivered twice to replica 1 is one vote: with its own that makes 2 = 2f,
  // so replica 1 commits on the first copy and does nothing on the second.
  Effects a = g.replicas[1]->Step(0, Input::Deliver(prepare2));
  Effects b = g.replicas[1]->Step(0, Input::Deliver(prepare2));
  EXPECT_EQ(CountType(a, MsgType::kCommit), 1);
  EXPECT_EQ(CountType(b, MsgType::kCommit), 0);
}

TEST(PbftReplica, ForgedSenderIsRejected) {
  PbftGroup g;
  g.StepAndRoute(0, Input::Deliver(g.Request(1)));
  g.StepAndRoute(0, Input::Deliver(g.Request(2)));
  MessagePtr pp = g.queue.front().second;
  g.queue.clear();
  g.replicas[1]->Step(0, Input::Deliver(pp));
  // Replica 3 builds a PREPARE with its own keys but claims to be replica 2.
  wire::Envelope env;
  env.mutable_prepare()->set_view(0);
  env.mutable_prepare()->set_seq(1);
  env.mutable_prepare()->set_digest(pp->env.pre_prepare().digest());
  env.mutable_prepare()->set_replica(2);
  OpCounts ops;
  MessagePtr honest = Seal(env, Identity(&g.keys, 3), Auth::MacGroup(&g.members_), ops);
  auto [forged_ptr, forged] = MakeMessage(*honest);
  forged->env.set_sender(2);
  forged->sender = 2;
  Effects fx = g.replicas[1]->Step(0, Input::Deliver(forged_ptr));
  EXPECT_EQ(fx.rejected, 1u);
  EXPECT_EQ(CountType(fx, MsgType::kCommit), 0);
}

TEST(PbftReplica, RequestsFromReplicasOrWithBadSignaturesAreRejected) {
  PbftGroup g;
  Effects fx = g.replicas[0]->Step(0, Input::Deliver(g.Request(1, /*client=*/2)));
  EXPECT_EQ(fx.rejected, 1u);
  auto [bad_ptr, bad] = MakeMessage(*g.Request(1));
  bad->env.set_signature(std::string(kSignatureSize, 'x'));
  fx = g.replicas[0]->Step(0, Input::Deliver(bad_ptr));
  EXPECT_EQ(fx.rejected, 1u);
  EXPECT_EQ(g.replicas[0]->pending_requests(), 0u);
}

// A proposal carrying a request its client did not sign is refused by every backup, not only by
// the first to check it (the check is shared between the receivers of the same message), and each
// is charged a verify per request up to the forged one; an honest proposal is taken by all.
TEST(PbftReplica, EveryBackupRefusesAProposalWithAForgedRequest) {
  PbftGroup g;
  auto [forged_ptr, forged] = MakeMessage(*g.Request(2));
  forged->env.set_signature(std::string(kSignatureSize, 'x'));
  std::vector<MessagePtr> requests = {g.Request(1), forged_ptr, g.Request(3)};
  // Every backup gets the proposal: refused or not, charged `verifies`, answering with PREPAREs.
  auto deliver = [&g](const std::vector<MessagePtr>& batch, uint32_t rejected, uint32_t verifies, int prepares) {
    OpCounts ignored;
    MessagePtr pp = SealPrePrepare(0, 1, batch, Identity(&g.keys, 0), &g.members_, ignored);
    for (NodeId backup = 1; backup < 4; ++backup) {
      Effects fx = g.replicas[backup]->Step(0, Input::Deliver(pp));
      EXPECT_EQ(fx.rejected, rejected) << "backup " << backup;
      EXPECT_EQ(fx.ops.verifies, verifies) << "backup " << backup;
      EXPECT_EQ(CountType(fx, MsgType::kPrepare), prepares) << "backup " << backup;
    }
  };
  deliver(requests, 1, 2, 0);
  requests[1] = g.Request(2);
  deliver(requests, 0, 3, 1);
}

TEST(PbftReplica, ExecutesInOrderAndAgreesAcrossReplicas) {
  PbftGroup g(/*batch_size=*/1);
  for (uint64_t ts = 1; ts <= 20; ++ts) g.StepAndRoute(0, Input::Deliver(g.Request(ts)));
  // Deliver in reverse order of arrival for a while: execution must still follow sequence order.
  std::reverse(g.queue.begin(), g.queue.end());
  g.Pump();
  for (NodeId r = 0; r < 4; ++r) {
    ASSERT_EQ(g.executed[r].size(), 20u);
    for (size_t i = 0; i < 20; ++i) {
      EXPECT_EQ(g.executed[r][i].seq, i + 1);
      EXPECT_EQ(g.executed[r][i].digest, g.executed[0][i].digest);
    }
  }
}

TEST(PbftReplica, AtMostOnceAndRepliesAgainToARetransmission) {
  PbftGroup g(/*batch_size=*/1);
  MessagePtr req = g.Request(1);
  g.StepAndRoute(0, Input::Deliver(req));
  g.Pump();
  size_t replies = g.to_client.size();
  ASSERT_EQ(replies, 4u);
  // The client re-sends to a backup: it answers from its record and does not execute again.
  Effects fx = g.StepAndRoute(2, Input::Deliver(req));
  EXPECT_EQ(CountType(fx, MsgType::kReply), 1);
  EXPECT_EQ(SealedEnvelope(*fx.sends[0].msg).reply().result(), SealedEnvelope(*g.to_client[0]).reply().result());
  EXPECT_TRUE(fx.executed.empty());
  // And the primary does not propose it a second time.
  fx = g.StepAndRoute(0, Input::Deliver(req));
  EXPECT_EQ(CountType(fx, MsgType::kPrePrepare), 0);
}

TEST(PbftReplica, ReorderedRequestsOfOneClientAllExecute) {
  PbftGroup g(/*batch_size=*/1);
  for (uint64_t ts : {3, 1, 2}) g.StepAndRoute(0, Input::Deliver(g.Request(ts)));
  g.Pump();
  uint32_t executed = 0;
  for (const Execution& e : g.executed[1]) executed += e.requests;
  EXPECT_EQ(executed, 3u);
}

TEST(PbftReplica, WindowBoundsProposalsInFlight) {
  // Watermarks: the primary proposes at most `window` sequence numbers above the stable checkpoint.
  PbftGroup g(/*batch_size=*/1, /*window=*/2, /*checkpoint_interval=*/2);
  int proposed = 0;
  for (uint64_t ts = 1; ts <= 5; ++ts) {
    proposed += CountType(g.StepAndRoute(0, Input::Deliver(g.Request(ts))), MsgType::kPrePrepare);
  }
  EXPECT_EQ(proposed, 2);
  EXPECT_EQ(g.replicas[0]->pending_requests(), 3u);
  g.Pump();  // executing and a stable checkpoint at 2 and 4 move the window: the rest follows
  EXPECT_EQ(g.replicas[3]->last_executed(), 5u);
  EXPECT_EQ(g.replicas[3]->stable_checkpoint(), 4u);
}

}  // namespace
}  // namespace geopbft
