// Observers (sim/observer.h): what a newcomer's own observer hears, through the public hook.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/scenario_loader.h"
#include "sim/simulation.h"
#include "tests/scenario_runs.h"

namespace geopbft {
namespace {

// Two clusters of four, GeoBFT, a lossy WAN: messages are lost, views may change.
const char kScenario[] = R"(
duration_s: 2
seed: 5
topology { clusters: 2 replicas_per_cluster: 4 }
protocol { kind: GEOBFT batch_size: 10 }
network { loss_ratio: 0.01 }
workload { outstanding: 8 }
)";

std::unique_ptr<Simulation> Make() { return testing::SimulationFromText(kScenario, "observer.textproto"); }

// Counts what it hears, and keeps every replica's executed positions.
class Recorder : public Observer {
 public:
  explicit Recorder(uint32_t interests) : interests_(interests) {}
  uint32_t interests() const override { return interests_; }
  void OnEvent(TimeNs, const EventSeen&) override { ++events; }
  void OnTransmit(TimeNs, const Transmission& t) override { ++sent, lost += t.lost; }
  void OnDelivered(TimeNs, NodeId) override { ++delivered; }
  void OnReplicaStep(TimeNs, const ReplicaStep& s) override {
    for (const Execution& ex : s.fx.executed) executed[s.replica][ex.seq] = std::string(ex.digest.view());
  }
  void OnClientStep(TimeNs, const ClientStep& s) override { completed += s.fx.completions.size(); }
  void OnSample(TimeNs, const WorldAtSample& w) override {
    ++samples;
    replicas_seen = w.replicas.size();
  }
  void OnFinish(TimeNs) override { ++finished; }

  uint64_t events = 0, sent = 0, lost = 0, delivered = 0, completed = 0, samples = 0, finished = 0;
  size_t replicas_seen = 0;
  std::map<NodeId, std::map<uint64_t, std::string>> executed;  // replica -> position -> digest

 private:
  uint32_t interests_;
};

constexpr uint32_t kAll = 0xff;

TEST(Observer, HearsWhatTheBuiltInMetricsCount) {
  auto sim = Make();
  Recorder rec(kAll);
  sim->AddObserver(&rec);
  sim->Run();
  ASSERT_GT(sim->completed_requests(), 100u);
  EXPECT_EQ(rec.events, sim->events());
  EXPECT_EQ(rec.sent, sim->messages_sent());
  EXPECT_EQ(rec.lost, sim->messages_lost());
  EXPECT_GT(rec.lost, 0u);
  EXPECT_EQ(rec.delivered, sim->messages_delivered());
  EXPECT_EQ(rec.completed, sim->completed_requests());
  EXPECT_EQ(rec.samples, sim->samples().size());
  EXPECT_EQ(rec.replicas_seen, sim->num_replicas());
  EXPECT_EQ(rec.finished, 1u);
}

// An observer of one's own can check agreement itself: every replica executed the same batch at
// every position it reached (the global order of GeoBFT spans both clusters).
TEST(Observer, SeesEveryReplicaExecuteTheSameOrder) {
  auto sim = Make();
  Recorder rec(Observer::kReplicaSteps);
  sim->AddObserver(&rec);
  sim->Run();
  ASSERT_EQ(rec.executed.size(), sim->num_replicas());
  std::map<uint64_t, std::string> order;
  for (const auto& [replica, positions] : rec.executed) {
    EXPECT_EQ(positions.size(), sim->replica_state(replica).last_executed()) << "replica " << replica;
    for (const auto& [seq, digest] : positions) {
      auto [it, first] = order.try_emplace(seq, digest);
      EXPECT_EQ(it->second, digest) << "replica " << replica << " at position " << seq;
    }
  }
  EXPECT_GT(order.size(), 50u);
}

// Hooks outside interests() are never called (the hot paths stay cheap), and watching changes
// nothing: the run's digest is the same with and without the observer.
TEST(Observer, HearsOnlyItsInterestsAndChangesNothing) {
  auto plain = Make();
  plain->Run();
  auto watched = Make();
  Recorder rec(Observer::kSamples);
  watched->AddObserver(&rec);
  watched->Run();
  EXPECT_EQ(rec.events + rec.sent + rec.delivered + rec.completed + rec.finished, 0u);
  EXPECT_EQ(rec.samples, watched->samples().size());
  EXPECT_EQ(plain->trace_digest(), watched->trace_digest());
}

}  // namespace
}  // namespace geopbft
