#include <dirent.h>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/region_catalog.h"
#include "sim/scenario_loader.h"

namespace geopbft {
namespace {

using ::testing::HasSubstr;

std::string Joined(const LoadedScenario& l) {
  std::string s;
  for (const auto& e : l.errors) s += e + "\n";
  return s;
}

TEST(Scenario, DefaultsMakeAValidScenario) {
  LoadedScenario l = LoadScenarioText("", "empty.textproto", {});
  ASSERT_TRUE(l.ok()) << Joined(l);
  EXPECT_EQ(l.scenario.name(), "empty");
  EXPECT_EQ(TotalReplicas(l.scenario), 4u);
  EXPECT_EQ(GroupFaults(l.scenario), 1u);
}

TEST(Scenario, UnknownFieldIsLocated) {
  LoadedScenario l = LoadScenarioText("seed: 3\ntopology {\n  clusters: 2\n  colour: 5\n}\n", "s.textproto", {});
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(l.errors[0], "s.textproto:4:3: ")) << l.errors[0];
  EXPECT_THAT(l.errors[0], HasSubstr("colour"));
}

TEST(Scenario, SyntaxErrorIsLocated) {
  LoadedScenario l = LoadScenarioText("duration_s: 5\nprotocol { batch_size: }\n", "s.textproto", {});
  ASSERT_FALSE(l.ok());
  EXPECT_TRUE(absl::StartsWith(l.errors[0], "s.textproto:2:")) << l.errors[0];
}

TEST(Scenario, TooManyFaultsForTheGroupIsLocatedAtF) {
  LoadedScenario l = LoadScenarioText("topology {\n  replicas_per_cluster: 6\n  f: 2\n}\n", "s.textproto", {});
  ASSERT_EQ(l.errors.size(), 1u) << Joined(l);
  EXPECT_TRUE(absl::StartsWith(l.errors[0], "s.textproto:3:3: ")) << l.errors[0];
  EXPECT_THAT(l.errors[0], HasSubstr("n >= 3f+1"));
}

TEST(Scenario, UnknownRegionIsLocatedAndNamesTheKnownOnes) {
  LoadedScenario l = LoadScenarioText(
      "topology { clusters: 2\n cluster_regions: \"oregon\"\n cluster_regions: \"atlantis\" }\n", "s.textproto", {});
  ASSERT_EQ(l.errors.size(), 1u) << Joined(l);
  EXPECT_TRUE(absl::StartsWith(l.errors[0], "s.textproto:3:2: ")) << l.errors[0];
  EXPECT_THAT(l.errors[0], HasSubstr("atlantis"));
  EXPECT_THAT(l.errors[0], HasSubstr("belgium"));
}

TEST(Scenario, EveryProblemIsReported) {
  LoadedScenario l = LoadScenarioText(
      "duration_s: -1\nprotocol { batch_size: 0 }\nnetwork { loss_ratio: 1.5 }\ncpu { speed: 0 }\n", "s.textproto", {});
  EXPECT_EQ(l.errors.size(), 4u) << Joined(l);
}

TEST(Scenario, MacCommitsAreForFlatPbftOnly) {
  LoadedScenario flat = LoadScenarioText("protocol { pbft { vote_auth: MACS } }\n", "s.textproto", {});
  EXPECT_TRUE(flat.ok()) << Joined(flat);
  LoadedScenario geo =
      LoadScenarioText("protocol {\n  kind: GEOBFT\n  pbft { vote_auth: MACS }\n}\n", "s.textproto", {});
  ASSERT_EQ(geo.errors.size(), 1u) << Joined(geo);
  EXPECT_TRUE(absl::StartsWith(geo.errors[0], "s.textproto:3:")) << geo.errors[0];
  EXPECT_THAT(geo.errors[0], HasSubstr("certificates"));
  LoadedScenario cores = LoadScenarioText("cpu { cores: 0 }\nnetwork { nic_bandwidth_mbps: -1 }\n", "s.textproto", {});
  EXPECT_EQ(cores.errors.size(), 2u) << Joined(cores);
}

TEST(Scenario, ImpossibleValuesAfterOverridesAreCaught) {
  LoadedScenario l = LoadScenarioText("", "s.textproto", {"topology.replicas_per_cluster=3", "topology.f=1"});
  ASSERT_FALSE(l.ok());
  EXPECT_THAT(Joined(l), HasSubstr("3f+1"));
}

TEST(Scenario, NamedOverridePathsWork) {
  LoadedScenario l = LoadScenarioText(
      "", "s.textproto",
      {"topology.clusters=3", "topology.replicas_per_cluster=10", "protocol.batch_size=100", "duration_s=2.5",
       "protocol.kind=PBFT", "workload.mode=OPEN_LOOP", "name=renamed", "network.jitter={kind: NORMAL sd_ms: 3}"});
  ASSERT_TRUE(l.ok()) << Joined(l);
  EXPECT_EQ(l.scenario.topology().clusters(), 3u);
  EXPECT_EQ(l.scenario.topology().replicas_per_cluster(), 10u);
  EXPECT_EQ(l.scenario.protocol().batch_size(), 100u);
  EXPECT_EQ(l.scenario.duration_s(), 2.5);
  EXPECT_EQ(l.scenario.workload().mode(), scenario::Workload::OPEN_LOOP);
  EXPECT_EQ(l.scenario.name(), "renamed");
  EXPECT_EQ(l.scenario.network().jitter().sd_ms(), 3);
}

TEST(Scenario, RepeatedFieldsByIndexAndAsAList) {
  LoadedScenario l = LoadScenarioText("", "s.textproto",
                                      {"topology.clusters=2", "topology.cluster_regions=[\"taiwan\", \"sydney\"]",
                                       "cpu.replica_speed[0].replica=3", "cpu.replica_speed[0].speed=0.5"});
  ASSERT_TRUE(l.ok()) << Joined(l);
  EXPECT_EQ(l.scenario.topology().cluster_regions(1), "sydney");
  EXPECT_EQ(l.scenario.cpu().replica_speed(0).speed(), 0.5);
}

TEST(Scenario, BadOverridesSayWhatIsWrong) {
  scenario::Scenario s;
  EXPECT_THAT(std::string(ApplyOverride(s, "topology.colour=3").message()), HasSubstr("unknown field 'colour'"));
  EXPECT_THAT(std::string(ApplyOverride(s, "topology.clusters=many").message()), HasSubstr("cannot parse"));
  EXPECT_THAT(std::string(ApplyOverride(s, "protocol.kind=RAFT").message()), HasSubstr("cannot parse"));
  EXPECT_THAT(std::string(ApplyOverride(s, "duration_s").message()), HasSubstr("path=value"));
  LoadedScenario l = LoadScenarioText("", "s.textproto", {"nope=1"});
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(l.errors[0], "--set=nope=1: ")) << l.errors[0];
}

TEST(Scenario, EffectiveScenarioRoundTrips) {
  LoadedScenario l = LoadScenarioText("topology { clusters: 2 }", "s.textproto", {"seed=99", "protocol.batch_size=7"});
  ASSERT_TRUE(l.ok());
  LoadedScenario again = LoadScenarioText(ScenarioToText(l.scenario), "replay.textproto", {});
  ASSERT_TRUE(again.ok()) << Joined(again);
  EXPECT_EQ(again.scenario.SerializeAsString(), l.scenario.SerializeAsString());
}

TEST(Scenario, MissingFileIsAnError) {
  LoadedScenario l = LoadScenario("/nonexistent/x.textproto", {});
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(l.errors[0], "/nonexistent/x.textproto:1:1: ")) << l.errors[0];
}

TEST(Scenario, EveryShippedScenarioValidates) {
  std::string dir = std::string(GEOPBFT_SOURCE_DIR) + "/scenarios";
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr);
  int checked = 0;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (!absl::EndsWith(name, ".textproto") || absl::EndsWith(name, ".sweep.textproto")) continue;
    LoadedScenario l = LoadScenario(dir + "/" + name, {});
    EXPECT_TRUE(l.ok()) << name << ":\n" << Joined(l);
    ++checked;
  }
  closedir(d);
  EXPECT_GE(checked, 1);
}

TEST(RegionCatalog, EmbeddedCatalogIsThePapersSixRegions) {
  const RegionCatalog& c = RegionCatalog::Embedded();
  ASSERT_EQ(c.size(), 6u);
  EXPECT_EQ(c.name(0), "oregon");
  EXPECT_EQ(c.name(5), "sydney");
  int o = c.Find("oregon"), b = c.Find("belgium");
  EXPECT_EQ(c.rtt_ms(o, b), 136);
  EXPECT_EQ(c.rtt_ms(b, o), 136);
  EXPECT_EQ(c.bandwidth_mbps(o, b), 194);
  EXPECT_EQ(c.rtt_ms(o, o), 1);
}

}  // namespace
}  // namespace geopbft
