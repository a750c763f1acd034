// The example fault scenarios, run whole: each must show what its comment promises, with agreement
// in every run.
#include <memory>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/scenario_loader.h"
#include "sim/simulation.h"
#include "tests/scenario_runs.h"

namespace geopbft {
namespace {

using ::testing::HasSubstr;

using testing::CompletedBetween;
using testing::RunFile;

TEST(FaultScenarios, PrimaryCrashIsRecoveredByAViewChange) {
  auto sim = RunFile("pbft-primary-crash");
  EXPECT_FALSE(sim->stalled());
  EXPECT_GE(sim->view_changes(), 1u);
  EXPECT_EQ(CompletedBetween(*sim, 3.5, 4.5), 0u);  // the dip: nobody orders requests
  // Progress resumes within 2.5 s of the crash (client retransmission 1 s + view-change timer) and
  // throughput is back to where it was.
  uint64_t before = CompletedBetween(*sim, 1, 3), after = CompletedBetween(*sim, 6, 8);
  EXPECT_GT(CompletedBetween(*sim, 3, 5.5), 0u);
  EXPECT_GT(after, before * 9 / 10);
  EXPECT_EQ(sim->replica(0).role, "crashed");
  for (uint32_t r = 1; r < sim->num_replicas(); ++r) EXPECT_EQ(sim->replica(r).view, 1u);
}

TEST(FaultScenarios, SlowBackupChangesNothingAndCatchesUp) {
  auto sim = RunFile("pbft-slow-backup");
  EXPECT_FALSE(sim->stalled());
  EXPECT_EQ(sim->view_changes(), 0u);
  EXPECT_GT(CompletedBetween(*sim, 2, 10), CompletedBetween(*sim, 0, 2) * 3);
  // After its slowdown the backup is level with the others again.
  EXPECT_GE(sim->replica(5).executed_seq + 64, sim->replica(0).executed_seq);
}

TEST(FaultScenarios, SlowPrimaryHalvesThroughputWithoutViewChange) {
  auto sim = RunFile("pbft-slow-primary");
  EXPECT_FALSE(sim->stalled());
  EXPECT_EQ(sim->view_changes(), 0u);
  uint64_t normal = CompletedBetween(*sim, 0, 2), slow = CompletedBetween(*sim, 4, 6),
           after = CompletedBetween(*sim, 11, 13);
  EXPECT_LT(slow, normal * 7 / 10);
  EXPECT_GT(slow, 0u);
  EXPECT_GT(after, normal * 9 / 10);
}

TEST(FaultScenarios, PartitionStopsCommitsAndHealingRestoresThem) {
  auto sim = RunFile("partition-heal");
  EXPECT_FALSE(sim->stalled());
  EXPECT_EQ(CompletedBetween(*sim, 3.5, 7), 0u);  // no side has a quorum
  EXPECT_GT(CompletedBetween(*sim, 7, 8.5), 0u);  // back within 1.5 s of the heal
  EXPECT_GT(CompletedBetween(*sim, 9, 11), CompletedBetween(*sim, 0, 2) * 9 / 10);
}

TEST(FaultScenarios, GeoBftRidesOutAPeriodOfAsynchronyAndADelayedLeader) {
  // Network phases (LINK extra_delay_ms): every WAN link +400 ms from 3 to 5 s, replica 0's links
  // +150 ms from 7 to 8 s. Throughput falls during each phase and is back after it, without a view
  // change (nothing is lost, and the remote timeout is longer than the delays).
  auto sim = RunFile("asynchrony");
  EXPECT_FALSE(sim->stalled());
  EXPECT_EQ(sim->view_changes(), 0u);
  const uint64_t before = CompletedBetween(*sim, 1.5, 3);
  EXPECT_LT(CompletedBetween(*sim, 3.5, 5), before * 4 / 10);
  EXPECT_GT(CompletedBetween(*sim, 3.5, 5), 0u);  // slower, not stopped
  EXPECT_GT(CompletedBetween(*sim, 5.5, 7), before * 8 / 10);
  EXPECT_LT(CompletedBetween(*sim, 7.2, 8), CompletedBetween(*sim, 6.2, 7) * 6 / 10);
  EXPECT_GT(CompletedBetween(*sim, 8.5, 10), before * 8 / 10);
}

TEST(FaultScenarios, AGeoBftRegionCutOffCatchesUpWithinASecondOfTheHeal) {
  // Belgium cut off from the other regions from 3 to 7 s, longer than the stall detector's 2 s.
  // Every round needs every cluster, so nothing executes meanwhile: the scenario, not a stall. At
  // the heal, the clusters' repeated requests reach each other and each answers with every
  // certificate the other lost: throughput is at 70% within a second, 90% within a second and a half.
  auto sim = RunFile("geobft-4x7", {R"(faults=[{kind: PARTITION at_s: 3 until_s: 7 regions: ["belgium"]}])",
                                    "duration_s=9", "checks.stall_after_s=2"});
  EXPECT_FALSE(sim->stalled()) << sim->stall_report();
  const uint64_t before = CompletedBetween(*sim, 1, 3) / 4;  // per half second
  EXPECT_EQ(CompletedBetween(*sim, 4, 7), 0u);
  EXPECT_GT(CompletedBetween(*sim, 7.5, 8), before * 7 / 10);
  EXPECT_GT(CompletedBetween(*sim, 8.5, 9), before * 9 / 10);
  EXPECT_EQ(sim->view_changes(), 0u);  // nobody was silent: the network was
}

TEST(FaultScenarios, TheStallClockStartsAgainAtTheHeal) {
  // The same cut, but belgium's replicas crash for good as it heals: no round can complete again.
  // The detector fires stall_after (2 s) after the heal, not 2 s into the partition.
  auto sim = RunFile("geobft-4x7", {R"(faults=[{kind: PARTITION at_s: 3 until_s: 7 regions: ["belgium"]},
                                               {kind: CRASH at_s: 7 replicas: [21, 22, 23, 24, 25, 26, 27]}])",
                                    "duration_s=12", "checks.stall_after_s=2", "checks.expect_liveness=false"});
  ASSERT_TRUE(sim->stalled());
  EXPECT_THAT(sim->stall_report(), HasSubstr("stall detected at 9.000 s"));
}

TEST(FaultScenarios, CheckpointsLostToAPartitionAreResentAndTheWindowMovesAgain) {
  // Swarm seed 2000407 of --protocol=pbft: five replicas (f = 1, so checkpoints need n - f = 4),
  // window = checkpoint interval = 16; replicas 2 and 3 cut off from 1.639 to 1.797 s, just as the
  // group takes checkpoint 2000. Each side kept only its own side's CHECKPOINTs, nobody could stabilise
  // 2000, the window stayed full and nothing executed again. Now a STATUS is answered with the
  // sender's missing CHECKPOINTs too.
  auto sim = testing::SimulationFromText(R"(
    name: "swarm-2000407" seed: 2000407 duration_s: 9
    topology { clusters: 1 replicas_per_cluster: 5 cluster_regions: "oregon" }
    protocol { kind: PBFT batch_size: 5 batch_timeout_ms: 5 window: 16
               pbft { checkpoint_interval: 16 request_timeout_ms: 2000 } }
    workload { mode: CLOSED_LOOP clients_per_cluster: 2 outstanding: 12 request_size_bytes: 64
               retransmit_timeout_ms: 1000 }
    checks { stall_after_s: 9 expect_liveness: false }
    faults { kind: CRASH at_s: 4.3872856895178822 until_s: 4.9601347470130719 replicas: 2 }
    faults { kind: PARTITION at_s: 1.6389602059008148 until_s: 1.7974437480856493 replicas: [3, 2] })",
                                         "seed-2000407");
  sim->Run();
  EXPECT_EQ(sim->safety_violations(), 0u);
  EXPECT_GT(CompletedBetween(*sim, 4, 4.5), 0u);  // moving again about 2 s after the heal
  const uint64_t before = CompletedBetween(*sim, 0.5, 1.5);
  EXPECT_GT(CompletedBetween(*sim, 7, 8), before * 9 / 10);
  for (uint32_t r = 0; r < sim->num_replicas(); ++r) EXPECT_GT(sim->replica(r).executed_seq, 2000u) << r;
}

TEST(FaultScenarios, ReplicasCutOffWhileTheGroupChangedViewsCatchUpAtTheHeal) {
  // Swarm seed 4000006 (the recovery bound): six replicas (a quorum is 4), replica 3 silent,
  // replicas 4 and 5 cut off from 0.38 to 4.09 s while the other four moved to view 3, whose
  // primary is the silent one: view 3 needs 4 and 5. They ignored the STATUS of the higher view
  // and came back only when their own view-change timer, doubled with every view they tried alone,
  // fired at 7.8 s. Now a STATUS from a higher view makes them ask, and the NEW-VIEW comes back.
  auto sim = testing::SimulationFromText(R"(
    name: "swarm-4000006" seed: 4000006 duration_s: 9
    topology { clusters: 1 replicas_per_cluster: 6 cluster_regions: "iowa" }
    protocol { kind: PBFT batch_size: 5 batch_timeout_ms: 1 window: 32
               pbft { checkpoint_interval: 16 request_timeout_ms: 500 } }
    workload { mode: CLOSED_LOOP clients_per_cluster: 1 outstanding: 10 request_size_bytes: 64
               retransmit_timeout_ms: 1000 }
    checks { stall_after_s: 9 expect_liveness: false }
    faults { kind: SLOW at_s: 0.81017359257289856 until_s: 4.6388220231383483 replicas: [5, 3, 4]
             speed: 0.78610034166181 }
    faults { kind: PARTITION at_s: 0.37754646690375393 until_s: 4.0921132093146957 replicas: [5, 4] }
    byzantine { replicas: 3 behaviour: SILENT })",
                                         "seed-4000006");
  sim->Run();
  EXPECT_EQ(sim->safety_violations(), 0u);
  EXPECT_EQ(CompletedBetween(*sim, 1, 4), 0u);         // no quorum while they are cut off
  EXPECT_GT(CompletedBetween(*sim, 4.1, 5.1), 1000u);  // within a second of the heal (was 3.7 s)
  for (uint32_t r : {0u, 4u, 5u}) EXPECT_EQ(sim->replica(r).view, sim->replica(1).view) << r;
}

TEST(FaultScenarios, AReplicaLeftOutOfANewViewAsksForTheVotesItMissed) {
  // Swarm seed 1001820 of --protocol=pbft: eight replicas, f = 2 faulty (1 silent, 7 voting
  // against), so a commit needs all six honest replicas. Replicas 0 and 2 were cut off while the
  // rest moved to view 1; they installed it at the heal (4.74 s) but nobody resent them the view's
  // PREPAREs until their status timer found them stuck, 1.3 s later, and replica 3, waiting on
  // replica 0's COMMIT, timed out 7 ms before it came and changed view alone: nothing completed
  // from the start until 6 s, then again nothing until 10 s. A replica installing a view formed
  // without its VIEW-CHANGE now asks at once.
  auto sim = testing::SimulationFromText(R"(
    name: "swarm-1001820" seed: 1001820 duration_s: 9
    topology { clusters: 2 replicas_per_cluster: 4 cluster_regions: ["belgium", "sydney"] }
    network { jitter { kind: NORMAL sd_ms: 0.13891100155336539 } }
    protocol { kind: PBFT batch_size: 20 batch_timeout_ms: 1 window: 64
               pbft { checkpoint_interval: 4 request_timeout_ms: 2000 } }
    workload { mode: CLOSED_LOOP clients_per_cluster: 2 outstanding: 3 request_size_bytes: 64
               retransmit_timeout_ms: 2000 }
    checks { stall_after_s: 9 expect_liveness: false }
    faults { kind: PARTITION at_s: 0.20481746473769674 until_s: 4.7401983883547816 replicas: [2, 0] }
    byzantine { replicas: 1 behaviour: SILENT }
    byzantine { replicas: 7 behaviour: VOTE_AGAINST })",
                                         "seed-1001820");
  sim->Run();
  EXPECT_EQ(sim->safety_violations(), 0u);
  EXPECT_GT(CompletedBetween(*sim, 4.7, 5.7), 0u);  // within a second of the heal (was 1.5 s)
  EXPECT_GT(CompletedBetween(*sim, 7, 9), 40u);     // and on (was 0: replica 3's lone view change)
  EXPECT_EQ(sim->replica(3).view, sim->replica(0).view);
}

TEST(FaultScenarios, ViewChangesBackOffFromTheSecondAttemptAsInCastroLiskov) {
  // Primaries 0 and 1 crash together (f = 2 of 7). The backups hear of the clients' requests at
  // their 1 s re-send (2 s), change to view 1 at 3 s, and view 1's primary never answers: the wait
  // for its NEW-VIEW is the request timeout T, so view 2 starts at 4 s and runs by 4.5 s. (The
  // back-off used to double from the first view change: view 2 only at 5 s, running by 5.5 s.)
  auto sim = testing::SimulationFromText(R"(
    name: "two-faulty-primaries" seed: 7 duration_s: 6
    topology { clusters: 1 replicas_per_cluster: 7 cluster_regions: "iowa" }
    protocol { kind: PBFT batch_size: 10 batch_timeout_ms: 1 window: 32
               pbft { checkpoint_interval: 16 request_timeout_ms: 1000 } }
    workload { mode: CLOSED_LOOP clients_per_cluster: 1 outstanding: 4 request_size_bytes: 64
               retransmit_timeout_ms: 1000 }
    checks { stall_after_s: 6 expect_liveness: false }
    faults { kind: CRASH at_s: 1 until_s: 6 replicas: [0, 1] })",
                                         "two-faulty-primaries");
  sim->Run();
  EXPECT_EQ(sim->safety_violations(), 0u);
  EXPECT_EQ(CompletedBetween(*sim, 1.5, 4), 0u);
  EXPECT_GT(CompletedBetween(*sim, 4, 4.5), 100u);
  EXPECT_EQ(sim->replica(2).view, 2u);
}

TEST(FaultScenarios, AReplicaMissingTheNextProposalAsksEvenWhileVotesForItArrive) {
  // Swarm seed 1005774 of --protocol=pbft: seven replicas, two faulty (6 silent, 2 voting against
  // from 3 s), so every slot needs all five honest ones. Under 3 ms of jitter three of them got the
  // PRE-PREPARE of 945 before the checkpoint that moved their window and dropped it; the votes the
  // stuck others resent each period counted as progress, so they never asked: nothing executed from
  // 6.5 s until a view change at 8.5 s. A missing proposal with votes or later slots present is lost.
  auto sim = testing::SimulationFromText(R"(
    name: "swarm-1005774" seed: 1005774 duration_s: 9
    topology { clusters: 1 replicas_per_cluster: 7 cluster_regions: "iowa" }
    network { jitter { kind: NORMAL sd_ms: 2.9871374045725645 } }
    protocol { kind: PBFT batch_size: 1 batch_timeout_ms: 10 window: 16
               pbft { checkpoint_interval: 16 request_timeout_ms: 2000 } }
    workload { mode: CLOSED_LOOP clients_per_cluster: 2 outstanding: 6 request_size_bytes: 64
               retransmit_timeout_ms: 2000 }
    checks { stall_after_s: 9 expect_liveness: false }
    byzantine { replicas: 6 behaviour: SILENT }
    byzantine { replicas: 2 behaviour: VOTE_AGAINST from_s: 3.0364618081851411 })",
                                         "seed-1005774");
  sim->Run();
  EXPECT_EQ(sim->safety_violations(), 0u);
  for (double t = 3.5; t < 9; t += 1) EXPECT_GT(CompletedBetween(*sim, t, t + 1), 20u) << t;  // no second without
}

TEST(FaultScenarios, APrimaryThatCaughtUpByStateTransferProposesAgain) {
  // Swarm seed 1003237 of --protocol=pbft: primary 0 crashed from 2.99 to 4.80 s (under the 2 s
  // request timeout, so no view change); back, it proposed up to its old high watermark and
  // stopped, caught up by a state transfer at 5.05 s, but nothing woke its proposer: the requests
  // queued meanwhile, and every retransmission of them (a duplicate), waited until the backups
  // changed view at 9 s. Now a state transfer lets the primary propose at once.
  auto sim = testing::SimulationFromText(R"(
    name: "swarm-1003237" seed: 1003237 duration_s: 9
    topology { clusters: 1 replicas_per_cluster: 5 cluster_regions: "taiwan" }
    protocol { kind: PBFT batch_size: 5 batch_timeout_ms: 1 window: 16
               pbft { checkpoint_interval: 8 request_timeout_ms: 2000 } }
    workload { mode: CLOSED_LOOP clients_per_cluster: 1 outstanding: 11 request_size_bytes: 64
               retransmit_timeout_ms: 2000 }
    checks { stall_after_s: 9 expect_liveness: false }
    faults { kind: CRASH at_s: 2.991255024680926 until_s: 4.8026883102807325 replicas: 0 }
    faults { kind: PARTITION at_s: 1.0854005676229475 until_s: 2.0013998632162426 replicas: 3 }
    faults { kind: SLOW at_s: 1.4258646102526094 until_s: 3.1421048946441497 replicas: [0, 3]
             speed: 0.8952682674989707 })",
                                         "seed-1003237");
  sim->Run();
  EXPECT_EQ(sim->safety_violations(), 0u);
  EXPECT_GT(CompletedBetween(*sim, 5.1, 6.9), 1000u);  // was 0: nothing from 5.01 s to the view change
  EXPECT_EQ(sim->replica(1).view, 0u);                 // and no view change was needed
}

TEST(FaultScenarios, ANewGeoBftPrimaryProposesTheNoopsOwedWhenItsRemoteTimerFires) {
  // Swarm seed 1003690 of --protocol=geobft: cluster 1 (replicas 4-7, 4 silent) lost replica 5 to a
  // partition until 4.37 s and changed its primary at 3.34 s; the new primary (6) had heard of
  // round 17 from the other clusters as a backup, proposed nothing for it, and every cluster
  // waited for that round to the end of the run. Now a primary whose own cluster has nothing for a
  // round others started proposes the no-ops when its remote timer fires.
  auto sim = testing::SimulationFromText(R"(
    name: "swarm-1003690" seed: 1003690 duration_s: 9
    topology { clusters: 3 replicas_per_cluster: 4 cluster_regions: ["belgium", "oregon", "iowa"] }
    protocol { kind: GEOBFT batch_size: 100 batch_timeout_ms: 10 window: 16
               pbft { checkpoint_interval: 8 request_timeout_ms: 1000 } geobft { remote_timeout_ms: 1000 } }
    workload { mode: CLOSED_LOOP clients_per_cluster: 1 outstanding: 4 request_size_bytes: 64
               retransmit_timeout_ms: 1000 }
    checks { stall_after_s: 9 expect_liveness: false }
    faults { kind: PARTITION at_s: 0.33134847899252751 until_s: 4.3741113479869789 replicas: 5 }
    byzantine { replicas: 2 behaviour: VOTE_AGAINST }
    byzantine { replicas: 4 behaviour: SILENT }
    byzantine { replicas: 9 behaviour: SLOW_PRIMARY from_s: 3.2177924753220672 })",
                                         "seed-1003690");
  sim->Run();
  EXPECT_EQ(sim->safety_violations(), 0u);
  EXPECT_GT(CompletedBetween(*sim, 4.4, 6.4), 0u);  // within two remote timeouts of the heal
  // Every cluster carries on, cluster 1's own client too (its last requests were ordered in rounds
  // its replicas then skipped by a global snapshot: they answer from the local order).
  for (uint32_t c : {0u, 2u}) EXPECT_GT(sim->cluster_stats()[c].completed, 150u) << c;
  EXPECT_GT(sim->cluster_stats()[1].completed, 16u);
}

TEST(FaultScenarios, AClusterThatSkippedRoundsByAGlobalSnapshotStillAnswersTheirRequests) {
  // Swarm seed 1000701 of --protocol=reputation: every replica of cluster 2 caught up over rounds
  // 61-64 by a global snapshot; the snapshot marked its client's requests of round 64 executed, but
  // no replica of that cluster had executed them, so none could answer: the client waited for good
  // (120 requests in 20 s) while the others ran on. They answer from the local order's result now.
  auto sim = testing::SimulationFromText(R"(
    name: "swarm-1000701" seed: 1000701 duration_s: 9
    topology { clusters: 3 replicas_per_cluster: 5 cluster_regions: ["iowa", "montreal", "montreal"] }
    protocol { kind: GEOBFT_REPUTATION batch_size: 5 batch_timeout_ms: 1 window: 16
               pbft { checkpoint_interval: 16 request_timeout_ms: 1000 } geobft { remote_timeout_ms: 1000 }
               reputation { reselect_every: 8 } }
    workload { mode: CLOSED_LOOP clients_per_cluster: 1 outstanding: 2 request_size_bytes: 64
               retransmit_timeout_ms: 2000 }
    checks { stall_after_s: 9 expect_liveness: false }
    faults { kind: CRASH at_s: 2.6031996397817978 until_s: 4.2447845029020357 replicas: 4 }
    faults { kind: PARTITION at_s: 1.2361573516038202 until_s: 4.9255512256940115 replicas: [6, 14, 4, 10] }
    faults { kind: SLOW at_s: 1.3467443703534963 until_s: 3.6665251964912757 replicas: [14, 8]
             speed: 0.31708047764735486 }
    byzantine { replicas: 8 behaviour: VOTE_AGAINST })",
                                         "seed-1000701");
  sim->Run();
  EXPECT_EQ(sim->safety_violations(), 0u) << sim->first_violation();
  EXPECT_EQ(sim->reply_violations(), 0u);
  EXPECT_GT(sim->cluster_stats()[2].completed, 200u);  // was 120 even in 20 s
}

TEST(FaultScenarios, LossyWanKeepsCommittingWithoutViewChange) {
  auto sim = RunFile("lossy-wan");
  EXPECT_FALSE(sim->stalled());
  EXPECT_EQ(sim->view_changes(), 0u);
  EXPECT_GT(sim->messages_lost(), 0u);
  for (double t = 2.5; t < 12; t += 0.5) EXPECT_GT(CompletedBetween(*sim, t, t + 0.5), 0u) << "at " << t;
  EXPECT_GT(CompletedBetween(*sim, 13, 15), CompletedBetween(*sim, 0, 2) * 9 / 10);
}

TEST(FaultScenarios, LegacySwitchDeadlocksAndTheFixDoesNot) {
  auto legacy = RunFile("slow-node-deadlock");
  EXPECT_TRUE(legacy->stalled());
  EXPECT_THAT(legacy->stall_report(), HasSubstr("replica 3 (cluster 0, oregon): view 0"));
  EXPECT_THAT(legacy->stall_report(), HasSubstr("[legacy drop_out_of_order]"));
  EXPECT_THAT(legacy->stall_report(), HasSubstr("CRASHED"));
  auto fixed = RunFile("slow-node-deadlock", {"protocol.pbft.drop_out_of_order=false"});
  EXPECT_FALSE(fixed->stalled());
  EXPECT_GT(CompletedBetween(*fixed, 10, 15), 0u);
  EXPECT_GT(fixed->completed_requests(), legacy->completed_requests());
  // The same group without the slow replica does not deadlock under the legacy rule either: it is
  // the lagging replica that the rule cannot recover.
  auto no_slow = RunFile("slow-node-deadlock", {"faults=[{kind: CRASH at_s: 1 replicas: 1}]"});
  EXPECT_FALSE(no_slow->stalled());
}

TEST(FaultScenarios, CrashedBackupRecoversAndCatchesUp) {
  auto sim = RunFile("pbft-primary-crash", {"faults=[{kind: CRASH at_s: 3 until_s: 8 replicas: 5}]"});
  EXPECT_FALSE(sim->stalled());
  EXPECT_EQ(sim->view_changes(), 0u);
  EXPECT_EQ(sim->replica(5).role, "committee");
  EXPECT_GE(sim->state_transfers(), 1u);
  EXPECT_GE(sim->replica(5).executed_seq + 64, sim->replica(0).executed_seq);
}

TEST(FaultScenarios, MemoryStaysFlatOverLongRuns) {
  // Protocol state (log, checkpoints, client tables, view-change messages) and the agreement
  // checker's memory after 10 s and after 100 s of the same load.
  auto entries = [](const Simulation& sim) {
    size_t most = 0;
    for (uint32_t r = 0; r < sim.num_replicas(); ++r) most = std::max(most, sim.replica_state(r).state_entries());
    return most;
  };
  std::vector<std::string> light = {"workload.clients_per_cluster=1", "workload.outstanding=10"};
  auto with = [&](std::string d) {
    auto o = light;
    o.push_back(d);
    return o;
  };
  auto short_run = RunFile("pbft-4", with("duration_s=10"));
  auto long_run = RunFile("pbft-4", with("duration_s=100"));
  EXPECT_GT(long_run->completed_requests(), short_run->completed_requests() * 9);
  EXPECT_LT(entries(*long_run), entries(*short_run) * 3 / 2 + 64);
  EXPECT_LT(long_run->replica_state(0).log_size(), 200u);
}

TEST(FaultScenarios, BadSchedulesAreLocated) {
  LoadedScenario l = LoadScenarioText(
      "faults {\n  kind: CRASH\n  replicas: 9\n}\nfaults { kind: SLOW at_s: 5\n  until_s: 2 replicas: 0 }\n",
      "f.textproto", {});
  ASSERT_EQ(l.errors.size(), 2u);
  EXPECT_TRUE(absl::StartsWith(l.errors[0], "f.textproto:3:3: unknown replica 9")) << l.errors[0];
  EXPECT_TRUE(absl::StartsWith(l.errors[1], "f.textproto:6:3: fault ends")) << l.errors[1];
  LoadedScenario regions = LoadScenarioText("faults { kind: PARTITION regions: \"mars\" }", "p.textproto", {});
  ASSERT_EQ(regions.errors.size(), 1u);
  EXPECT_THAT(regions.errors[0], HasSubstr("unknown region 'mars'"));
}

}  // namespace
}  // namespace geopbft
