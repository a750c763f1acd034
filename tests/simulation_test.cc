// Whole runs on small scenarios: what a user of `./geopbft run` would notice.
#include "sim/simulation.h"

#include <memory>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "sim/agreement_checker.h"
#include "sim/run_outputs.h"
#include "sim/scenario_loader.h"
#include "tests/scenario_runs.h"

namespace geopbft {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Simulation> RunText(const std::string& text, std::vector<std::string> overrides = {},
                                    CryptoMode mode = CryptoMode::kFast) {
  auto sim = testing::SimulationFromText(text, "test.textproto", overrides, mode);
  sim->Run();
  return sim;
}

// Four replicas in one region, closed-loop clients.
const char kSmall[] = R"(
duration_s: 2
topology { clusters: 1 replicas_per_cluster: 4 }
network { jitter { kind: NORMAL sd_ms: 0.2 } }
protocol { batch_size: 10 batch_timeout_ms: 1 }
workload { clients_per_cluster: 2 outstanding: 20 }
)";

// Flat group over four regions.
const char kGeo[] = R"(
duration_s: 3
topology { clusters: 4 replicas_per_cluster: 1 }
network { jitter { kind: NORMAL sd_ms: 2 } }
protocol { batch_size: 10 }
workload { outstanding: 10 }
)";

void ExpectAllExecutedTheSamePrefix(const Simulation& sim, uint64_t window) {
  EXPECT_EQ(sim.safety_violations(), 0u) << sim.first_violation();
  uint64_t lo = UINT64_MAX, hi = 0;
  for (uint32_t i = 0; i < sim.num_replicas(); ++i) {
    lo = std::min(lo, sim.replica_state(i).last_executed());
    hi = std::max(hi, sim.replica_state(i).last_executed());
  }
  EXPECT_GT(lo, 0u);
  // Replicas stop at slightly different points, never further apart than the window.
  EXPECT_LE(hi - lo, window);
}

TEST(Simulation, FourReplicasCommitAndAgree) {
  auto sim = RunText(kSmall);
  EXPECT_GT(sim->completed_requests(), 1000u);
  EXPECT_FALSE(sim->stalled());
  ExpectAllExecutedTheSamePrefix(*sim, LoadScenarioText(kSmall, "test.textproto", {}).scenario.protocol().window());
}

TEST(Simulation, ThirtyOneReplicasCommitAndAgree) {
  auto sim = RunText(kSmall, {"topology.replicas_per_cluster=31", "duration_s=1"});
  EXPECT_EQ(sim->faults(), 10u);
  EXPECT_GT(sim->completed_requests(), 100u);
  ExpectAllExecutedTheSamePrefix(*sim, LoadScenarioText(kSmall, "test.textproto", {}).scenario.protocol().window());
}

TEST(Simulation, SameScenarioAndSeedGiveIdenticalOutputs) {
  auto a = RunText(kGeo);
  auto b = RunText(kGeo);
  EXPECT_EQ(a->trace_digest(), b->trace_digest());
  EXPECT_EQ(a->events(), b->events());
  EXPECT_EQ(TimeseriesCsv(*a), TimeseriesCsv(*b));
  EXPECT_EQ(ReplicasCsv(*a), ReplicasCsv(*b));
  EXPECT_EQ(SummaryJson(*a, {}), SummaryJson(*b, {}));
}

TEST(Simulation, FastAndRealCryptoGiveTheSameRun) {
  auto fast = RunText(kGeo, {"duration_s=1"}, CryptoMode::kFast);
  auto real = RunText(kGeo, {"duration_s=1"}, CryptoMode::kReal);
  EXPECT_EQ(fast->trace_digest(), real->trace_digest());
  EXPECT_EQ(fast->completed_requests(), real->completed_requests());
  EXPECT_EQ(SummaryJson(*fast, {}), SummaryJson(*real, {}));
}

// summary.json is the Summary message of sim/summary.proto: what `run` writes, `sweep` reads back
// through the schema to the same values, and the message mix names every type as the trace does.
TEST(Simulation, SummaryJsonIsTheSummarySchemaAndReadsBack) {
  auto sim = RunText(kGeo, {"duration_s=1"});
  const std::string json = SummaryJson(*sim, {});
  output::Summary back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &back).ok()) << json;
  EXPECT_EQ(back.SerializeAsString(), SummaryOf(*sim, {}).SerializeAsString());
  EXPECT_EQ(back.trace_digest(), sim->trace_digest());
  EXPECT_EQ(back.committed_requests(), static_cast<double>(sim->completed_requests()));
  EXPECT_THAT(ClustersCsv(*sim), ::testing::StartsWith("cluster,region,committed_requests,view_changes,wan_bytes\n0,"));
  EXPECT_GT(back.message_mix().pre_prepare(), 0);
  EXPECT_GT(back.message_mix().commit(), 0);
  // Every message type the simulator counts has its field, under the trace's name.
  const google::protobuf::Descriptor* mix = output::MessageMix::descriptor();
  for (int t = 1; t < 64; ++t) {
    const std::string_view name = MsgTypeName(static_cast<MsgType>(t));
    const google::protobuf::FieldDescriptor* f = mix->FindFieldByNumber(t);
    if (f == nullptr) continue;
    EXPECT_EQ(f->json_name(), name) << "field " << t;
  }
  EXPECT_EQ(mix->field_count(), 18) << "a new message type needs its field in MessageMix (numbered as in Envelope)";
  // Numbers a reader compares stay numbers in the text (not proto3's quoted 64-bit integers).
  EXPECT_THAT(json, ::testing::HasSubstr("\"committed_requests\": " + std::to_string(sim->completed_requests())));
  EXPECT_THAT(json, ::testing::HasSubstr("\"safety_violations\": 0"));
}

// events.csv: faults, Byzantine turns, view changes and role changes with their times, so that
// plots and readers never parse the scenario.
TEST(Simulation, EventsTellWhatHappenedWhen) {
  auto crash = testing::RunFile("pbft-primary-crash",
                                {"duration_s=6", "faults=[{kind: CRASH at_s: 3 until_s: 5 replicas: [0]}]"});
  double crashed_at = -1, back_at = -1, view_change_at = -1;
  for (const Simulation::RunEvent& e : crash->run_events()) {
    if (e.kind == "fault_start") {
      crashed_at = e.time_s;
      EXPECT_EQ(e.detail, "CRASH replicas 0");
      EXPECT_EQ(e.replica, 0);
    }
    if (e.kind == "fault_end") back_at = e.time_s;
    if (e.kind == "view_change" && view_change_at < 0) view_change_at = e.time_s;
  }
  EXPECT_DOUBLE_EQ(crashed_at, 3.0);
  EXPECT_DOUBLE_EQ(back_at, 5.0);
  EXPECT_GT(view_change_at, 3.0) << "the crashed primary is replaced after the crash";
  EXPECT_LT(view_change_at, 5.0);
  EXPECT_THAT(EventsCsv(*crash),
              ::testing::StartsWith("time_s,kind,replica,cluster,detail\n3.000000,fault_start,0,,CRASH"));

  auto turncoat = testing::RunFile("turncoat-representative", {"duration_s=12"});
  bool turned = false, lost_role = false;
  for (const Simulation::RunEvent& e : turncoat->run_events()) {
    if (e.kind == "byzantine" && e.replica == 0) {
      turned = true;
      EXPECT_DOUBLE_EQ(e.time_s, 8.0);
    }
    if (e.kind == "role_change" && e.replica == 0 && e.time_s > 8) lost_role = true;
  }
  EXPECT_TRUE(turned);
  EXPECT_TRUE(lost_role) << "the proven equivocator's demotion is an event";
}

TEST(Simulation, AnotherSeedChangesTheRunWhenThereIsJitter) {
  auto a = RunText(kGeo, {"seed=1"});
  auto b = RunText(kGeo, {"seed=2"});
  EXPECT_NE(a->trace_digest(), b->trace_digest());
  EXPECT_EQ(a->safety_violations() + b->safety_violations(), 0u);
}

TEST(Simulation, WideAreaLatencyReflectsTheRegions) {
  // Flat PBFT over oregon/iowa/montreal/belgium needs several WAN trips; in one region it does not.
  auto geo = RunText(kGeo);
  auto local = RunText(kGeo, {"topology.cluster_regions=[\"oregon\",\"oregon\",\"oregon\",\"oregon\"]"});
  EXPECT_GT(geo->latency().Quantile(0.5), 60 * kMillisecond);
  EXPECT_LT(local->latency().Quantile(0.5), 10 * kMillisecond);
  EXPECT_GT(geo->wan_bytes(), 0u);
  EXPECT_EQ(local->wan_bytes(), 0u);
}

TEST(Simulation, CustomRegionMatrix) {
  // Two made-up regions 400 ms apart: every decision of the flat group crosses that link.
  auto sim = RunText(R"(
    duration_s: 5
    topology { clusters: 2 replicas_per_cluster: 2 cluster_regions: ["near", "far"] }
    network {
      regions { name: "near" } regions { name: "far" }
      links { a: "near" b: "far" rtt_ms: 400 bandwidth_mbps: 100 }
    }
    workload { outstanding: 5 }
  )");
  EXPECT_GT(sim->completed_requests(), 0u);
  // Near replicas need a quorum member from far: a full 400 ms round trip, then local replies.
  EXPECT_GT(sim->latency().Quantile(0.5), 400 * kMillisecond);
  EXPECT_LT(sim->latency().Quantile(0.5), 450 * kMillisecond);
  EXPECT_GT(sim->wan_bytes(), 0u);
  EXPECT_EQ(sim->safety_violations(), 0u);
}

TEST(Simulation, UniformDelayDistribution) {
  // normal(250 ms, 50 ms) between every pair: a decision takes about five one-way delays.
  auto sim = RunText(kSmall, {"network.uniform_delay={kind: NORMAL mean_ms: 250 sd_ms: 50}", "duration_s=10"});
  EXPECT_GT(sim->latency().Quantile(0.5), 900 * kMillisecond);
  EXPECT_LT(sim->latency().Quantile(0.5), 1600 * kMillisecond);
  EXPECT_EQ(sim->safety_violations(), 0u);
}

TEST(Simulation, SlowerCpusLowerSaturatedThroughput) {
  const char* loaded = "workload.outstanding=200";
  auto fast = RunText(kSmall, {loaded});
  auto slow = RunText(kSmall, {loaded, "cpu.speed=0.25"});
  EXPECT_LT(slow->completed_requests() * 2, fast->completed_requests());
}

TEST(Simulation, ZeroCpuCostsAreAllowed) {
  auto sim = RunText(kSmall, {"cpu={base_us: 0 per_byte_ns: 0 sign_us: 0 verify_us: 0 mac_us: 0 hash_ns_per_byte: 0}"});
  EXPECT_GT(sim->completed_requests(), 1000u);
  for (uint32_t i = 0; i < sim->num_replicas(); ++i) EXPECT_EQ(sim->replica(i).stats->cpu_busy, 0);
}

TEST(Simulation, PayloadSizeCountsOnTheWire) {
  auto small = RunText(kGeo, {"workload.request_size_bytes=10"});
  auto big = RunText(kGeo, {"workload.request_size_bytes=4000"});
  EXPECT_GT(static_cast<double>(big->wan_bytes()) / big->completed_requests(),
            static_cast<double>(small->wan_bytes()) / small->completed_requests() + 3000);
}

TEST(Simulation, OpenLoopThroughputFollowsTheArrivalRate) {
  auto sim = RunText(kSmall, {"workload.mode=OPEN_LOOP", "workload.rate_per_client_tps=200", "duration_s=5"});
  // 2 clients x 200 tps x 5 s, minus what is still in flight at the end.
  EXPECT_NEAR(static_cast<double>(sim->completed_requests()), 2000, 150);
}

TEST(Simulation, FixedCountEndsWhenTheLastRequestCommits) {
  auto sim = RunText(kSmall, {"workload.mode=FIXED_COUNT", "workload.count=50", "duration_s=100"});
  EXPECT_EQ(sim->completed_requests(), 100u);  // 2 clients x 50
  EXPECT_LT(sim->now(), 5 * kSecond);
}

TEST(Simulation, StallDetectorNamesWhatEachReplicaWaitsFor) {
  // A network that loses most messages: the normal case cannot complete a decision.
  auto sim = RunText(kSmall, {"network.loss_ratio=0.9", "checks.stall_after_s=1", "duration_s=30"});
  EXPECT_TRUE(sim->stalled());
  EXPECT_LT(sim->now(), 30 * kSecond);  // the run stops at the stall
  EXPECT_THAT(sim->stall_report(), HasSubstr("replica 3 (cluster 0, oregon): view 0 executed"));
  EXPECT_THAT(sim->stall_report(), HasSubstr("waiting for"));
  EXPECT_THAT(sim->stall_report(), HasSubstr("requests outstanding"));
}

TEST(Simulation, TimeseriesCoversTheRun) {
  auto sim = RunText(kSmall);  // 2 s at the default 0.5 s interval
  ASSERT_EQ(sim->samples().size(), 4u);
  EXPECT_DOUBLE_EQ(sim->samples().back().time_s, 2.0);
  uint64_t total = 0;
  for (const auto& s : sim->samples()) total += s.completed;
  EXPECT_EQ(total, sim->completed_requests());
}

TEST(AgreementChecker, FlagsDifferentBatchesAtOneSequenceNumber) {
  AgreementChecker c(3);
  Execution a{1, 0, Sha256("a"), 1}, b{1, 0, Sha256("b"), 1};
  c.OnExecuted(0, a, 0);
  c.OnExecuted(1, a, 0);
  EXPECT_EQ(c.violations(), 0u);
  c.OnExecuted(2, b, 5);
  EXPECT_EQ(c.violations(), 1u);
  EXPECT_THAT(c.first_violation(), HasSubstr("sequence 1"));
  EXPECT_EQ(c.tracked(), 0u);  // everyone executed seq 1: forgotten
}

}  // namespace
}  // namespace geopbft
