// Twins (DiemBFT's method): a TWIN replica runs as two honest instances with one identity and one
// key, each talking to a different side of the network while split. With at most f twins per group
// the protocols must keep agreement and replies safe; with f + 1 the checkers must see them break.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/scenario_loader.h"
#include "sim/simulation.h"
#include "tests/scenario_runs.h"

namespace geopbft {
namespace {

using testing::CompletedBetween;
using ::testing::HasSubstr;

std::unique_ptr<Simulation> RunTwins(const std::string& file, std::vector<std::string> overrides) {
  LoadedScenario l = LoadScenario(std::string(GEOPBFT_SOURCE_DIR) + "/scenarios/" + file + ".textproto", overrides);
  EXPECT_TRUE(l.ok()) << (l.errors.empty() ? "" : l.errors[0]);
  auto sim = std::make_unique<Simulation>(l.scenario, CryptoMode::kFast);
  sim->Run();
  return sim;
}

// A flat group of four (f = 1): its primary twinned, instance B beside replica 2, from 0.5 to 3 s.
std::vector<std::string> PbftTwin(const std::string& twins, const std::string& side,
                                  const std::string& split = "from_s: 0.5 until_s: 3") {
  return {"byzantine=[{replicas: " + twins + " behaviour: TWIN " + split + " twin_side: " + side + "}]",
          "network.jitter.sd_ms=2", "protocol.batch_size=1", "duration_s=5"};
}

TEST(Twins, ATwinnedPbftPrimaryKeepsAgreementAndProgress) {
  for (const char* side : {"[2]", "[2, 3]", "[]"}) {
    auto sim = RunTwins("pbft-4", PbftTwin("[0]", side));
    EXPECT_EQ(sim->safety_violations(), 0u) << side << ": " << sim->first_violation();
    EXPECT_EQ(sim->reply_violations(), 0u) << side;
    EXPECT_GT(CompletedBetween(*sim, 3.5, 5), 1000u) << side;  // the honest three carry on after it
    EXPECT_EQ(sim->replica(0).behaviour, "twin");
  }
}

TEST(Twins, TwinsBeyondFInAGroupBreakAgreementAndTheCheckerSeesIt) {
  // Replicas 0 and 3 twinned from the start, replica 2 beside both B instances: each side holds
  // 2f + 1 = 3 identities and commits on its own. Only a real split can make the honest pair (1, 2)
  // execute different batches at one sequence number. (Clients reach both instances alike, so the
  // two primaries mostly propose the same batches; a divergence needs the sides' orders to differ,
  // as they do in this run. Other placements only fool clients, which the reply checker sees.)
  auto sim = RunTwins("pbft-4", PbftTwin("[0, 3]", "[2]", "from_s: 0 until_s: 3"));
  EXPECT_GT(sim->safety_violations(), sim->reply_violations());
  EXPECT_THAT(sim->first_violation(), HasSubstr("executed batch"));
  // Never split, the same twins (2 of 4 Byzantine) fool clients but cannot split the honest pair.
  auto unsplit = RunTwins("pbft-4", PbftTwin("[0, 3]", "[2]", "from_s: 10 until_s: 11"));
  EXPECT_GT(unsplit->reply_violations(), 0u);
  EXPECT_THAT(unsplit->first_violation(), ::testing::Not(HasSubstr("executed batch")));
}

TEST(Twins, GeoBftKeepsAgreementWithATwinPerCluster) {
  // The primary of cluster 0 and a backup of cluster 1, each split from 1 to 4 s.
  for (const char* kind : {"GEOBFT", "GEOBFT_REPUTATION"}) {
    auto sim =
        RunTwins("default", {std::string("protocol.kind=") + kind, "duration_s=7",
                             "byzantine=[{replicas: [0] behaviour: TWIN from_s: 1 until_s: 4 twin_side: [2, 4, 13]},"
                             " {replicas: [7] behaviour: TWIN from_s: 1 until_s: 4 twin_side: [8, 9, 20]}]"});
    EXPECT_EQ(sim->safety_violations(), 0u) << kind << ": " << sim->first_violation();
    EXPECT_EQ(sim->reply_violations(), 0u) << kind;
    EXPECT_EQ(sim->role_disagreements(), 0u) << kind;
    EXPECT_GT(CompletedBetween(*sim, 5, 7), 10000u) << kind;
  }
}

TEST(Twins, ReputationBarsATwinForItsTwoProposals) {
  // Both instances lead cluster 0 and sign different batches for one slot: a proof of misbehaviour.
  auto sim = RunTwins("default", {"duration_s=5",
                                  "byzantine=[{replicas: [0] behaviour: TWIN from_s: 1 until_s: 4 "
                                  "twin_side: [2, 4]}]"});
  EXPECT_EQ(sim->safety_violations(), 0u) << sim->first_violation();
  std::vector<NodeId> barred;
  for (const Barred& b : sim->barred()) barred.push_back(b.replica);
  EXPECT_THAT(barred, ::testing::Contains(0u));
  EXPECT_NE(sim->replica(0).role, "representative");
}

TEST(Twins, RunsAreDeterministicAndTheTwinChangesThem) {
  const auto twin = PbftTwin("[0]", "[2]");
  auto a = RunTwins("pbft-4", twin), b = RunTwins("pbft-4", twin);
  EXPECT_EQ(a->trace_digest(), b->trace_digest());
  auto plain = RunTwins("pbft-4", {"network.jitter.sd_ms=2", "protocol.batch_size=1", "duration_s=5"});
  EXPECT_NE(a->trace_digest(), plain->trace_digest());
  EXPECT_GT(a->messages_lost(), 0u);  // the split blocks what crosses sides
  EXPECT_EQ(plain->messages_lost(), 0u);
}

TEST(Twins, BadTwinSpecsAreLocated) {
  LoadedScenario own = LoadScenarioText(
      "topology { replicas_per_cluster: 4 }\nbyzantine {\n  replicas: 1\n  behaviour: TWIN\n  twin_side: [1]\n}\n",
      "t.textproto", {});
  ASSERT_FALSE(own.errors.empty());
  EXPECT_THAT(own.errors[0], HasSubstr("t.textproto:5:"));
  EXPECT_THAT(own.errors[0], HasSubstr("cannot sit beside its own twin"));
  LoadedScenario both = LoadScenarioText(
      "topology { replicas_per_cluster: 4 }\nbyzantine { replicas: 1 behaviour: TWIN }\n"
      "byzantine { replicas: 1 behaviour: SILENT }\n",
      "t.textproto", {});
  ASSERT_FALSE(both.errors.empty());
  EXPECT_THAT(both.errors[0], HasSubstr("replica 1 is a TWIN"));
  LoadedScenario side =
      LoadScenarioText("byzantine { replicas: 1 behaviour: SILENT twin_side: 2 }\n", "t.textproto", {});
  ASSERT_FALSE(side.errors.empty());
  EXPECT_THAT(side.errors[0], HasSubstr("twin_side is for behaviour TWIN only"));
}

}  // namespace
}  // namespace geopbft
