// ./geopbft audit: the off-line check finds what the Byzantine replicas did, and only that.
#include "sim/audit.h"

#include <cstdio>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "sim/scenario_loader.h"
#include "sim/simulation.h"

namespace geopbft {
namespace {

const char kScenario[] = R"(
duration_s: 3
topology { clusters: 2 replicas_per_cluster: 4 }
protocol { kind: GEOBFT batch_size: 10 batch_timeout_ms: 5 window: 32 pbft { request_timeout_ms: 500 } }
workload { outstanding: 30 }
byzantine { replicas: [2] behaviour: VOTE_AGAINST }
byzantine { replicas: [4] behaviour: EQUIVOCATE from_s: 1 }
)";

// Runs the scenario recording what replicas send, and feeds the record to an auditor.
struct Audited {
  scenario::Scenario scenario;
  std::unique_ptr<KeyRing> keys;
  std::unique_ptr<Auditor> auditor;
  std::vector<std::string> lines;
};

Audited RunAndAudit() {
  Audited a;
  LoadedScenario l = LoadScenarioText(kScenario, "audit.textproto", {});
  EXPECT_TRUE(l.ok());
  a.scenario = l.scenario;
  std::FILE* log = std::tmpfile();
  Simulation sim(a.scenario, CryptoMode::kFast);
  sim.RecordSentMessages(log);
  sim.Run();
  EXPECT_EQ(sim.safety_violations(), 0u);
  std::rewind(log);
  char buf[1 << 16];
  std::string line;
  while (std::fgets(buf, sizeof buf, log)) {
    line += buf;
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      a.lines.push_back(line);
      line.clear();
    }
  }
  std::fclose(log);
  a.keys = std::make_unique<KeyRing>(a.scenario.seed(), CryptoMode::kFast);
  a.auditor = std::make_unique<Auditor>(a.scenario, a.keys.get());
  for (const std::string& l2 : a.lines) EXPECT_TRUE(a.auditor->AddLine(l2)) << l2.substr(0, 80);
  return a;
}

TEST(Audit, ProvesWhatTheByzantineReplicasDidAndNothingElse) {
  Audited a = RunAndAudit();
  ASSERT_GT(a.auditor->messages(), 100u);
  EXPECT_EQ(a.auditor->unauthenticated(), 0u);
  bool vote_against = false, equivocation = false;
  for (const Auditor::Finding& f : a.auditor->Findings()) {
    EXPECT_TRUE(f.replica == 2 || f.replica == 4) << "honest replica " << f.replica << " accused: " << f.what;
    vote_against |= f.replica == 2 && absl::StrContains(f.what, "against the decided digest");
    equivocation |= f.replica == 4 && absl::StrContains(f.what, "two PRE-PREPAREs");
  }
  EXPECT_TRUE(vote_against);
  EXPECT_TRUE(equivocation);
  EXPECT_TRUE(absl::StrContains(a.auditor->Report(), "replica 2 (cluster 0, scenario: VOTE_AGAINST)"));
}

TEST(Audit, AForgedMessageProvesNothingAgainstTheReplicaItNames) {
  Audited a = RunAndAudit();
  Auditor clean(a.scenario, a.keys.get());
  // A COMMIT claiming to be replica 0's, for another digest, signed by replica 2.
  wire::Envelope env;
  wire::Commit* c = env.mutable_commit();
  c->set_view(0);
  c->set_seq(1);
  c->set_digest(std::string(32, 'x'));
  c->set_replica(0);
  OpCounts ops;
  MessagePtr m = Seal(env, Identity(a.keys.get(), 2), Auth::Signature(), ops);
  wire::Envelope forged = m->env;
  forged.set_sender(0);
  std::string line = "5 -1 " + absl::BytesToHexString(forged.SerializeAsString());
  for (const std::string& l : a.lines) clean.AddLine(l);
  ASSERT_TRUE(clean.AddLine(line));
  EXPECT_EQ(clean.unauthenticated(), 1u);
  for (const Auditor::Finding& f : clean.Findings()) EXPECT_NE(f.replica, 0u) << f.what;
  EXPECT_FALSE(clean.AddLine("not a message"));
}

}  // namespace
}  // namespace geopbft
