// GeoBFT: one global order across all clusters, no-op rounds, remote view change, the repair path,
// certificate forgery, and equivalence with flat PBFT on a deterministic workload.
#include <memory>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/geobft_replica.h"
#include "protocol/pbft_certificates.h"
#include "sim/scenario_loader.h"
#include "sim/simulation.h"
#include "tests/scenario_runs.h"

namespace geopbft {
namespace {

using ::testing::HasSubstr;

const char kGeo[] = R"(
duration_s: 4
topology { clusters: 3 replicas_per_cluster: 4 }
network { jitter { kind: NORMAL sd_ms: 1 } }
protocol { kind: GEOBFT batch_size: 10 batch_timeout_ms: 5 pbft { checkpoint_interval: 16 } geobft { remote_timeout_ms: 500 } }
workload { outstanding: 20 }
)";

std::unique_ptr<Simulation> RunGeo(const std::string& text, std::vector<std::string> overrides = {}) {
  LoadedScenario l = LoadScenarioText(text, "geo.textproto", overrides);
  EXPECT_TRUE(l.ok()) << (l.errors.empty() ? "" : l.errors[0]);
  auto sim = std::make_unique<Simulation>(l.scenario, CryptoMode::kFast);
  sim->RecordExecutions();
  sim->Run();
  EXPECT_EQ(sim->safety_violations(), 0u) << sim->first_violation();
  return sim;
}

using testing::CompletedBetween;
using testing::RunFile;

TEST(GeoBft, EveryReplicaOfEveryClusterExecutesTheSameGlobalOrder) {
  auto sim = RunGeo(kGeo);
  EXPECT_GT(sim->completed_requests(), 500u);
  const auto& ref = sim->executions(0);
  ASSERT_GT(ref.size(), 30u);
  for (uint32_t r = 0; r < sim->num_replicas(); ++r) {
    const auto& h = sim->executions(r);
    ASSERT_GT(h.size(), 30u) << "replica " << r;
    for (size_t i = 0; i < std::min(h.size(), ref.size()); ++i) {
      ASSERT_EQ(h[i].seq, i + 1) << "replica " << r << " skipped a position";
      ASSERT_EQ(h[i].digest, ref[i].digest) << "replica " << r << " position " << i + 1;
    }
  }
}

TEST(GeoBft, AnIdleClusterContributesNoOpRounds) {
  auto sim = RunGeo(kGeo, {"workload.idle_clusters=[2]"});
  const Digest noop = BatchDigest(wire::Batch());
  uint64_t noops = 0, busy = 0;
  for (const Execution& e : sim->executions(5)) {
    uint32_t cluster = static_cast<uint32_t>((e.seq - 1) % 3);
    if (cluster == 2) {
      EXPECT_EQ(e.requests, 0u);
      EXPECT_EQ(e.digest, noop) << "cluster 2 proposed something at position " << e.seq;
      ++noops;
    } else {
      busy += e.requests;
    }
  }
  EXPECT_GT(noops, 10u);
  EXPECT_GT(busy, 500u);
  EXPECT_EQ(sim->cluster_stats()[2].completed, 0u);
  EXPECT_GT(sim->cluster_stats()[0].completed, 0u);
}

TEST(GeoBft, RemoteViewChangeReplacesASilentPrimaryOnce) {
  auto sim = RunFile("geobft-primary-crash");
  EXPECT_FALSE(sim->stalled());
  const auto& stats = sim->cluster_stats();
  EXPECT_EQ(stats[1].view_changes, 1u);  // exactly one local view change, in the failed cluster
  EXPECT_EQ(stats[0].view_changes + stats[2].view_changes + stats[3].view_changes, 0u);
  EXPECT_EQ(CompletedBetween(*sim, 3.5, 4), 0u);  // rounds wait for cluster 1
  // ... until the remote view change (remote timeout 1 s): the new primary at once proposes the
  // no-ops the crashed one owed for the rounds the other clusters had started.
  EXPECT_GT(CompletedBetween(*sim, 4, 4.5), 0u);
  EXPECT_GT(CompletedBetween(*sim, 6, 8), CompletedBetween(*sim, 1, 3) * 9 / 10);  // and resume
  uint64_t rvc = 0;
  for (uint32_t r = 0; r < sim->num_replicas(); ++r) {
    rvc += dynamic_cast<const GeoBftReplica&>(sim->replica_state(r)).remote_view_changes_requested();
  }
  EXPECT_GE(rvc, 3u);  // n-f replicas of at least one other cluster
}

TEST(GeoBft, LostCertificatesAreRepairedWithoutViewChange) {
  auto sim = RunFile("geobft-lossy-link");
  EXPECT_FALSE(sim->stalled());
  EXPECT_EQ(sim->view_changes(), 0u);
  EXPECT_GT(sim->messages_lost(), 0u);
  uint64_t repairs = 0;
  for (uint32_t r = 0; r < sim->num_replicas(); ++r) {
    repairs += dynamic_cast<const GeoBftReplica&>(sim->replica_state(r)).repairs_sent();
  }
  EXPECT_GT(repairs, 0u);
  for (double t = 2; t < 10; t += 0.5) EXPECT_GT(CompletedBetween(*sim, t, t + 0.5), 0u) << "at " << t;
}

TEST(GeoBft, PbftAndGeoBftExecuteTheSameRequests) {
  // A deterministic workload: every client sends 30 requests one after another.
  std::vector<std::string> fixed = {"workload.mode=FIXED_COUNT", "workload.count=30", "duration_s=60"};
  auto geo = RunGeo(kGeo, fixed);
  fixed.push_back("protocol.kind=PBFT");
  auto flat = RunGeo(kGeo, fixed);
  EXPECT_EQ(geo->completed_requests(), 90u);
  EXPECT_EQ(flat->completed_requests(), 90u);
  for (const Simulation* sim : {geo.get(), flat.get()}) {
    // The run ends when the last client has f+1 replies, so some replicas may be a step behind;
    // none executes more than the 90 requests (at most once) and the most advanced executed all.
    uint64_t most = 0;
    for (uint32_t r = 0; r < sim->num_replicas(); ++r) {
      uint64_t executed = 0;
      for (const Execution& e : sim->executions(r)) executed += e.requests;
      EXPECT_LE(executed, 90u);
      most = std::max(most, executed);
    }
    EXPECT_EQ(most, 90u);
  }
}

TEST(GeoBft, PrimariesOnlySharingIsCheaperAndStillAgrees) {
  auto f1 = RunGeo(kGeo);
  auto primaries = RunGeo(kGeo, {"protocol.geobft.sharing=PRIMARIES_ONLY"});
  EXPECT_GT(primaries->completed_requests(), f1->completed_requests() / 2);
  EXPECT_LT(static_cast<double>(primaries->wan_bytes()) / primaries->completed_requests(),
            static_cast<double>(f1->wan_bytes()) / f1->completed_requests());
}

TEST(GeoBft, FaultBoundIsPerCluster) {
  LoadedScenario l = LoadScenarioText(
      "topology { clusters: 4 replicas_per_cluster: 3 f: 1 }\nprotocol { kind: GEOBFT }", "g.textproto", {});
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_THAT(l.errors[0], HasSubstr("n=3 replicas cannot tolerate f=1"));
  EXPECT_TRUE(LoadScenarioText("topology { clusters: 4 replicas_per_cluster: 3 f: 1 }", "g.textproto", {}).ok());
}

// Certificates sent by another cluster are checked before anything else happens.
class CertificateForgery : public ::testing::Test {
 protected:
  CertificateForgery() {
    GeoConfig cfg;
    cfg.clusters = {{0, 1, 2, 3}, {4, 5, 6, 7}};
    cfg.cluster = 1;
    cfg.local.members = cfg.clusters[1];
    cfg.local.self_index = 1;
    cfg.local.f = 1;
    replica = std::make_unique<GeoBftReplica>(cfg, Identity(&keys, 5));
    batch.add_requests()->mutable_request()->set_timestamp(1);
    digest = BatchDigest(batch);
  }
  wire::Envelope Commit(NodeId signer, const Digest& d, NodeId claimed = UINT32_MAX) {
    wire::Envelope env;
    auto* c = env.mutable_commit();
    c->set_view(0);
    c->set_seq(1);
    c->set_digest(std::string(d.view()));
    c->set_replica(claimed == UINT32_MAX ? signer : claimed);
    OpCounts ops;
    wire::Envelope sealed = Seal(env, Identity(&keys, signer), Auth::Signature(), ops)->env;
    if (claimed != UINT32_MAX) sealed.set_sender(claimed);
    return sealed;
  }
  MessagePtr Share(std::vector<wire::Envelope> commits, const wire::Batch& b, const Digest& d) {
    wire::Envelope env;
    auto* g = env.mutable_global_share();
    g->set_cluster(0);
    g->set_round(1);
    g->set_digest(std::string(d.view()));
    *g->mutable_batch() = b;
    for (auto& c : commits) *g->add_commits() = c;
    OpCounts ops;
    return Seal(env, Identity(&keys, 0), Auth::Signature(), ops);
  }
  uint32_t Rejected(const MessagePtr& m) { return replica->Step(0, Input::Deliver(m)).rejected; }

  KeyRing keys{3, CryptoMode::kFast};
  std::unique_ptr<GeoBftReplica> replica;
  wire::Batch batch;
  Digest digest;
};

TEST_F(CertificateForgery, OnlyAQuorumOfValidMemberCommitsIsAccepted) {
  EXPECT_EQ(Rejected(Share({Commit(0, digest), Commit(1, digest)}, batch, digest)), 1u);  // too few
  EXPECT_EQ(Rejected(Share({Commit(0, digest), Commit(1, digest), Commit(6, digest)}, batch, digest)),
            1u);  // non-member
  EXPECT_EQ(Rejected(Share({Commit(0, digest), Commit(1, digest), Commit(3, digest, /*claimed=*/2)}, batch, digest)),
            1u);  // forged signer
  EXPECT_EQ(Rejected(Share({Commit(0, digest), Commit(1, digest), Commit(1, digest)}, batch, digest)), 1u);  // twice
  Digest other = Sha256("another batch");
  EXPECT_EQ(Rejected(Share({Commit(0, other), Commit(1, other), Commit(2, other)}, batch, other)),
            1u);  // batch != digest
  EXPECT_EQ(Rejected(Share({Commit(0, digest), Commit(1, digest), Commit(2, other)}, batch, digest)), 1u);  // mixed
  EXPECT_THAT(replica->Describe(), HasSubstr("waiting for certificates of clusters [0,1]"));
  // The genuine certificate is accepted (and relayed inside the cluster).
  Effects fx =
      replica->Step(0, Input::Deliver(Share({Commit(0, digest), Commit(1, digest), Commit(2, digest)}, batch, digest)));
  EXPECT_EQ(fx.rejected, 0u);
  EXPECT_THAT(replica->Describe(), HasSubstr("waiting for certificates of clusters [1]"));
  bool relayed = false;
  for (const Outgoing& o : fx.sends) relayed |= o.msg->type == MsgType::kGlobalShare && o.to == kToGroup;
  EXPECT_TRUE(relayed);
}

TEST(GeoBft, AReplicaTooSlowForTheLoadCatchesUpBySnapshot) {
  // Replica 5 runs at a fifth of the speed the load needs: its receive buffer overflows, it falls
  // further behind than peers keep certificates for, and must catch up from f+1 identical global
  // snapshots of its cluster instead of stalling for good (or queueing without bound).
  const char kSlow[] = R"(
duration_s: 12
topology { clusters: 2 replicas_per_cluster: 4 }
protocol { kind: GEOBFT batch_size: 100 batch_timeout_ms: 10 window: 32 pbft { checkpoint_interval: 16 } }
workload { clients_per_cluster: 2 outstanding: 200 }
cpu { replica_speed { replica: 5 speed: 0.15 } inbox_limit_kb: 4096 }
)";
  auto sim = RunGeo(kSlow);
  const auto& slow = static_cast<const GeoBftReplica&>(sim->replica_state(5));
  const auto& peer = static_cast<const GeoBftReplica&>(sim->replica_state(4));
  EXPECT_GT(slow.global_state_transfers(), 0u);
  EXPECT_GT(sim->inbox_dropped(), 0u);
  // Still following at the end (it lags, it is slow), not stuck where it first fell off.
  EXPECT_GT(slow.next_round(), peer.next_round() / 2) << "slow " << slow.next_round() << " peer " << peer.next_round();
  // Bounded state: nothing piles up for the replica that cannot keep up.
  EXPECT_LT(slow.state_entries(), 4 * peer.state_entries() + 1000);
}

}  // namespace
}  // namespace geopbft
