// GeoBFT with reputation, whole runs: what a researcher running the reputation scenarios would check.
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "protocol/geobft_replica.h"
#include "sim/scenario_loader.h"
#include "sim/simulation.h"
#include "tests/scenario_runs.h"

namespace geopbft {
namespace {

using testing::CompletedBetween;
using testing::RunFile;

// Two regions of 6 replicas (f = 1: committee of 4), replica 1 of each votes against.
const char kTwoClusters[] = R"(
duration_s: 5
topology { clusters: 2 replicas_per_cluster: 6 f: 1 }
network { jitter { kind: NORMAL sd_ms: 1 } }
protocol {
  kind: GEOBFT_REPUTATION batch_size: 20 batch_timeout_ms: 5 window: 32
  pbft { checkpoint_interval: 16 } geobft { remote_timeout_ms: 1000 }
  reputation { reselect_every: 8 }
}
workload { clients_per_cluster: 1 outstanding: 60 }
byzantine { replicas: [1, 7] behaviour: VOTE_AGAINST }
)";

std::unique_ptr<Simulation> RunText(const std::string& text, std::vector<std::string> overrides = {}) {
  auto sim = testing::SimulationFromText(text, "reputation.textproto", overrides);
  sim->Run();
  EXPECT_EQ(sim->safety_violations(), 0u) << sim->first_violation();
  EXPECT_EQ(sim->role_disagreements(), 0u);
  return sim;
}

const GeoBftReplica& Geo(const Simulation& sim, uint32_t r) {
  return static_cast<const GeoBftReplica&>(sim.replica_state(r));
}

// Every malicious replica ends as a listener scored below every honest replica of its cluster, no
// honest replica is evicted, and the committees are what the scores say.
void ExpectMaliciousEvicted(const Simulation& sim) {
  const uint32_t per = sim.topology().per_cluster;
  for (uint32_t c = 0; c < sim.topology().clusters; ++c) {
    double lowest_honest = 1e9, highest_byzantine = -1;
    for (uint32_t i = c * per; i < (c + 1) * per; ++i) {
      Simulation::ReplicaView v = sim.replica(i);
      double score = std::stod(v.score);
      if (v.behaviour == "honest") {
        lowest_honest = std::min(lowest_honest, score);
        EXPECT_EQ(v.evictions, 0u) << "honest replica " << i << " evicted";
      } else {
        highest_byzantine = std::max(highest_byzantine, score);
        EXPECT_EQ(v.role, "listener") << "replica " << i;
      }
    }
    EXPECT_LT(highest_byzantine, lowest_honest) << "cluster " << c;
  }
}

TEST(Reputation, VoteAgainstReplicasLoseTheirSeatWithinBoundedRounds) {
  auto sim = RunText(kTwoClusters);
  ExpectMaliciousEvicted(*sim);
  // Bounded: the first re-selection (8 rounds) sees them below the eviction threshold and its roles
  // apply a window (32 rounds) later: from round 8 + 32 + 1 on they no longer vote.
  const GeoBftReplica& obs = Geo(*sim, 0);
  ASSERT_GT(obs.next_round(), 60u);
  for (uint32_t c = 0; c < 2; ++c) EXPECT_FALSE(obs.roles_of(c).At(41).Votes(1)) << "cluster " << c;
  // Time Byzantine replicas spent voting: bounded, well below the run.
  EXPECT_GT(sim->byzantine_in_committee_s(), 0);
  EXPECT_LT(sim->byzantine_in_committee_s(), 2 * 2.0);
}

TEST(Reputation, HonestReplicasAgreeOnScoresAndRoles) {
  auto sim = RunText(kTwoClusters);
  // Every honest replica that executed the same rounds holds the same score table.
  const uint64_t round = Geo(*sim, 0).next_round();
  for (uint32_t r = 0; r < sim->num_replicas(); ++r) {
    if (sim->replica(r).behaviour != "honest" || Geo(*sim, r).next_round() != round) continue;
    EXPECT_EQ(Geo(*sim, r).scores()->Fingerprint(), Geo(*sim, 0).scores()->Fingerprint()) << "replica " << r;
  }
}

TEST(Reputation, FlatPbftWithReputationEvictsToo) {
  // Flat PBFT over the same 12 replicas (f = 3 of 12 here: committee 10), reputation on.
  auto sim = RunText(kTwoClusters, {"protocol.kind=PBFT", "protocol.reputation.enabled=true", "topology.f=3"});
  EXPECT_GT(sim->completed_requests(), 0u);
  for (uint32_t r : {1u, 7u}) EXPECT_EQ(sim->replica(r).role, "listener") << r;
  EXPECT_LT(std::stod(sim->replica(1).score), std::stod(sim->replica(0).score));
}

TEST(Reputation, WithReputationOffItIsPlainGeoBft) {
  auto off = RunText(kTwoClusters, {"protocol.reputation.enabled=false"});
  auto plain = RunText(kTwoClusters, {"protocol.kind=GEOBFT"});
  EXPECT_EQ(off->trace_digest(), plain->trace_digest());
  EXPECT_EQ(off->completed_requests(), plain->completed_requests());
  EXPECT_FALSE(off->reputation());
  // Without reputation the two vote-against replicas vote all along (2 x 5 s); with it, briefly.
  EXPECT_NEAR(plain->byzantine_in_committee_s(), 2 * 5.0, 1e-6);
  EXPECT_LT(RunText(kTwoClusters)->byzantine_in_committee_s(), 0.25 * plain->byzantine_in_committee_s());
}

TEST(Reputation, SameSeedSameRun) {
  auto a = RunText(kTwoClusters);
  auto b = RunText(kTwoClusters);
  EXPECT_EQ(a->trace_digest(), b->trace_digest());
  ASSERT_EQ(a->reputation_rows().size(), b->reputation_rows().size());
  for (size_t i = 0; i < a->reputation_rows().size(); ++i) {
    EXPECT_EQ(a->reputation_rows()[i].score, b->reputation_rows()[i].score);
  }
}

TEST(Reputation, LyingEvidenceNeitherFramesNorShields) {
  // 7 replicas (f = 2, committee of all 7): replica 1 lists every PREPARE in its COMMITs, seen or
  // not; replica 2 is silent. The liar's claims alone (one lister, f+1 = 3 needed) do not make the
  // silent replica's votes count, and nobody honest loses points to the lies.
  const char kLiar[] = R"(
duration_s: 4
topology { clusters: 1 replicas_per_cluster: 7 }
protocol { kind: GEOBFT_REPUTATION batch_size: 10 batch_timeout_ms: 5 window: 32 reputation { reselect_every: 8 } }
workload { outstanding: 40 }
byzantine { replicas: [1] behaviour: LYING_EVIDENCE }
byzantine { replicas: [2] behaviour: SILENT }
)";
  auto sim = RunText(kLiar);
  const ScoreBook& book = *Geo(*sim, 0).scores();
  for (uint32_t honest : {0u, 3u, 4u, 5u, 6u}) {
    EXPECT_DOUBLE_EQ(book.Peer(0, honest).consensus, 100) << honest;
    EXPECT_GT(book.Score(0, honest), book.Score(0, 2));
  }
  EXPECT_DOUBLE_EQ(book.Peer(0, 2).consensus, 0);
}

TEST(Reputation, MaliciousVoterScenario) {
  auto sim = RunFile("malicious-voter", {"duration_s=6"});
  EXPECT_EQ(sim->role_disagreements(), 0u);
  ExpectMaliciousEvicted(*sim);
}

TEST(Reputation, TurncoatRepresentativeIsReplacedAndThroughputRecovers) {
  auto sim = RunFile("turncoat-representative", {"duration_s=14"});
  EXPECT_GE(sim->representative_changes(), 1u);
  // Oregon's representative at the end is honest, and it is not the turncoat.
  NodeId rep = Geo(*sim, 2).representative(0);
  EXPECT_NE(rep, 0u);
  EXPECT_EQ(sim->replica(rep).behaviour, "honest");
  double before = CompletedBetween(*sim, 2, 8) / 6.0, after = CompletedBetween(*sim, 10, 14) / 4.0;
  EXPECT_GT(after, 0.7 * before) << "before " << before << " tps, after " << after << " tps";
}

TEST(Reputation, FlakyLinkIsNotPunishedLikeMalice) {
  auto sim = RunFile("flaky-network", {"duration_s=8"});
  // When each fell below the eviction threshold (0: never).
  auto first_below = [&](NodeId r) {
    for (const auto& row : sim->reputation_rows()) {
      if (row.replica == r && row.score < 60) return row.time_s;
    }
    return 0.0;
  };
  double malicious = first_below(1), flaky = first_below(2);
  EXPECT_GT(malicious, 0);
  EXPECT_LE(malicious, 2.0);
  EXPECT_TRUE(flaky == 0 || flaky > 3 * malicious) << "honest replica behind a 20% lossy link fell at " << flaky;
  EXPECT_EQ(sim->replica(1).role, "listener");
  EXPECT_GE(sim->replica(1).evictions, 1u);
}

TEST(Reputation, MyPbftPresetReproducesThePublishedExperiment) {
  auto sim = RunFile("my-pbft-silent-at-50");
  // Scores of replica 3 (silent from round 50) and replica 1 (honest) by round.
  double honest_at_55 = -1, silent_at_50 = -1, silent_at_76 = -1;
  for (const auto& row : sim->reputation_rows()) {
    if (row.replica == 1 && row.round >= 55 && honest_at_55 < 0) honest_at_55 = row.score;
    if (row.replica == 3 && row.round >= 50 && silent_at_50 < 0) silent_at_50 = row.score;
    if (row.replica == 3 && row.round >= 76 && silent_at_76 < 0) silent_at_76 = row.score;
  }
  EXPECT_EQ(honest_at_55, 1000);  // 400 -> 1000 by about round 52
  EXPECT_GT(silent_at_50, 800);
  // About 28 points per round from round 50: about 185 by round 76.
  EXPECT_GT(silent_at_76, 50);
  EXPECT_LT(silent_at_76, 300);
}

}  // namespace
}  // namespace geopbft
