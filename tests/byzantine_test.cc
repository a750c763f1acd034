// Byzantine behaviours: each does what it says to the messages the replica sends, re-signed with
// its own keys only, and the protocols survive up to f of them per group.
#include "sim/byzantine.h"

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/scenario_loader.h"
#include "sim/simulation.h"

namespace geopbft {
namespace {

const char kPbft[] = R"(
duration_s: 8
topology { clusters: 2 replicas_per_cluster: 2 }
network { jitter { kind: NORMAL sd_ms: 1 } }
protocol { batch_size: 10 pbft { checkpoint_interval: 16 request_timeout_ms: 500 } }
workload { outstanding: 20 retransmit_timeout_ms: 1000 }
)";

std::unique_ptr<Simulation> RunWith(std::vector<std::string> overrides, const char* text = kPbft) {
  LoadedScenario l = LoadScenarioText(text, "byz.textproto", overrides);
  EXPECT_TRUE(l.ok()) << (l.errors.empty() ? "" : l.errors[0]);
  auto sim = std::make_unique<Simulation>(l.scenario, CryptoMode::kFast);
  sim->Run();
  EXPECT_EQ(sim->safety_violations(), 0u) << sim->first_violation();
  return sim;
}

class Behaviours : public ::testing::Test {
 protected:
  Behaviours() {
    wire::Envelope env;
    env.mutable_prepare()->set_view(0);
    env.mutable_prepare()->set_seq(1);
    env.mutable_prepare()->set_digest(std::string(Sha256("proposal").view()));
    env.mutable_prepare()->set_replica(1);
    OpCounts ops;
    prepare = Seal(env, Identity(&keys, 1), Auth::MacGroup(&group), ops);
    wire::Envelope c;
    c.mutable_commit()->set_view(0);
    c.mutable_commit()->set_seq(1);
    c.mutable_commit()->set_digest(std::string(Sha256("proposal").view()));
    c.mutable_commit()->set_replica(1);
    c.mutable_commit()->set_prepare_evidence(std::string(1, '\x03'));
    commit = Seal(c, Identity(&keys, 1), Auth::Signature(), ops);
  }
  Effects Apply(scenario::Byzantine::Behaviour kind, TimeNs now = 0, double from_s = 0) {
    scenario::Byzantine spec;
    spec.set_behaviour(kind);
    spec.set_from_s(from_s);
    ByzantineBehaviour b(spec, kSecond);
    Effects fx;
    fx.Send(prepare, kToGroup);
    fx.Send(commit, kToGroup);
    std::vector<DelayedSend> delayed;
    b.Apply(now, 0, Identity(&keys, 1), group, fx, delayed);
    return fx;
  }
  KeyRing keys{1, CryptoMode::kFast};
  std::vector<NodeId> group = {0, 1, 2, 3};
  MessagePtr prepare, commit;
};

TEST_F(Behaviours, SilentWithholdsVotes) {
  EXPECT_TRUE(Apply(scenario::Byzantine::SILENT).sends.empty());
  EXPECT_EQ(Apply(scenario::Byzantine::SILENT, 0, /*from_s=*/5).sends.size(), 2u);  // not yet a turncoat
}

TEST_F(Behaviours, VoteAgainstSignsAnotherDigestWithItsOwnKey) {
  Effects fx = Apply(scenario::Byzantine::VOTE_AGAINST);
  ASSERT_EQ(fx.sends.size(), 2u);
  const Message& p = *fx.sends[0].msg;
  EXPECT_NE(p.env.prepare().digest(), prepare->env.prepare().digest());
  OpCounts ops;
  EXPECT_TRUE(CheckAuth(p, Identity(&keys, 2), 2, ops));  // a valid message from replica 1
  const Message& c = *fx.sends[1].msg;
  EXPECT_NE(c.env.commit().digest(), commit->env.commit().digest());
  EXPECT_TRUE(keys.Verify(1, c.body_digest, c.env.signature()));
  EXPECT_GE(fx.ops.signs, 1u);  // the re-signing costs CPU like any signature
}

TEST_F(Behaviours, LyingEvidenceClaimsEveryVote) {
  Effects fx = Apply(scenario::Byzantine::LYING_EVIDENCE);
  ASSERT_EQ(fx.sends.size(), 2u);
  EXPECT_EQ(fx.sends[0].msg, prepare);  // prepares untouched
  EXPECT_EQ(static_cast<uint8_t>(fx.sends[1].msg->env.commit().prepare_evidence()[0]), 0x0f);
}

TEST(ByzantineRuns, FSilentOrVoteAgainstReplicasDoNotStopPbft) {
  for (const char* b : {"SILENT", "VOTE_AGAINST", "LYING_EVIDENCE"}) {
    auto honest = RunWith({});
    auto sim = RunWith({std::string("byzantine=[{behaviour: ") + b + " replicas: 3}]"});
    EXPECT_FALSE(sim->stalled()) << b;
    EXPECT_EQ(sim->view_changes(), 0u) << b;
    EXPECT_GT(sim->completed_requests(), honest->completed_requests() / 2) << b;
  }
  EXPECT_EQ(RunWith({"byzantine=[{behaviour: VOTE_AGAINST replicas: 3}]"})->replica(3).behaviour, "vote-against");
}

TEST(ByzantineRuns, AnEquivocatingPrimaryIsReplaced) {
  auto sim = RunWith({"byzantine=[{behaviour: EQUIVOCATE replicas: 0}]"});
  EXPECT_FALSE(sim->stalled());
  EXPECT_GE(sim->view_changes(), 1u);
  EXPECT_GT(sim->completed_requests(), 1000u);
}

TEST(ByzantineRuns, ASlowPrimaryStaysJustUnderTheTimeout) {
  auto honest = RunWith({});
  auto sim = RunWith({"byzantine=[{behaviour: SLOW_PRIMARY replicas: 0 delay_ms: 200}]"});
  EXPECT_EQ(sim->view_changes(), 0u);
  EXPECT_LT(sim->completed_requests() * 2, honest->completed_requests());
  EXPECT_GT(sim->completed_requests(), 0u);
}

TEST(ByzantineRuns, ATurncoatActsFromItsTime) {
  auto sim = RunWith({"byzantine=[{behaviour: SILENT replicas: 0 from_s: 3}]"});
  EXPECT_EQ(sim->replica(0).behaviour, "turncoat-silent");
  EXPECT_FALSE(sim->stalled());
}

TEST(ByzantineRuns, GeoBftSurvivesAVoteAgainstReplicaPerCluster) {
  auto sim = RunWith({"protocol.kind=GEOBFT", "topology.replicas_per_cluster=4",
                      "byzantine=[{behaviour: VOTE_AGAINST replicas: [3, 7]}]"});
  EXPECT_FALSE(sim->stalled());
  EXPECT_GT(sim->completed_requests(), 1000u);
}

TEST(ByzantineRuns, BadSpecsAreLocated) {
  LoadedScenario l = LoadScenarioText("byzantine {\n  replicas: 9\n}\n", "b.textproto", {});
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_THAT(l.errors[0], ::testing::StartsWith("b.textproto:2:3: unknown replica 9"));
}

}  // namespace
}  // namespace geopbft
