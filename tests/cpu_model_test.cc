// The CPU model (cpu.cores): what a multi-core replica's pipeline does to the run.
#include "sim/cpu_model.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/scenario_loader.h"
#include "sim/simulation.h"
#include "tests/scenario_runs.h"

namespace geopbft {
namespace {

TEST(CpuModel, AuthenticationAndOrderingSplitTheSingleCoreCost) {
  scenario::Cpu c;
  CpuModel cpu(c);
  OpCounts ops;
  ops.signs = 2, ops.verifies = 7, ops.macs = 30, ops.mac_checks = 3, ops.hashed_bytes = 5000, ops.checked_bytes = 9000;
  const CpuModel::Parts parts = cpu.Split(1200, ops, 0.5);
  EXPECT_NEAR(parts.authenticate + parts.order, cpu.Cost(1200, ops, 0.5), 1);
  // Checking what arrived is the workers'; signing and MACing what is sent the ordering core's.
  OpCounts checks;
  checks.verifies = 7, checks.mac_checks = 3, checks.checked_bytes = 9000;
  EXPECT_EQ(cpu.Split(1200, checks, 0.5).order, cpu.Cost(0, {}, 0.5));  // the base cost only
  OpCounts makes;
  makes.signs = 2, makes.macs = 30, makes.hashed_bytes = 5000;
  EXPECT_EQ(cpu.Split(0, makes, 1).authenticate, 0);
}

// Four replicas whose signature checks dominate (a slow Ed25519 verify): GeoBFT's signed COMMITs
// and client requests keep one core busy; worker cores take that work off the ordering core.
const char kCpuBound[] = R"(
duration_s: 2
seed: 3
topology { clusters: 2 replicas_per_cluster: 4 }
protocol { kind: GEOBFT batch_size: 20 }
cpu { verify_us: 400 }
workload { clients_per_cluster: 2 outstanding: 100 }
)";

std::unique_ptr<Simulation> RunCpuBound(std::vector<std::string> overrides, CryptoMode mode = CryptoMode::kFast) {
  auto sim = testing::SimulationFromText(kCpuBound, "cpu.textproto", overrides, mode);
  sim->Run();
  EXPECT_EQ(sim->safety_violations(), 0u) << sim->first_violation();
  return sim;
}

TEST(CpuModel, WorkerCoresRaiseTheThroughputOfAVerificationBoundReplica) {
  const uint64_t one = RunCpuBound({"cpu.cores=1"})->completed_requests();
  const uint64_t three = RunCpuBound({"cpu.cores=3"})->completed_requests();
  const uint64_t eight = RunCpuBound({"cpu.cores=8"})->completed_requests();
  EXPECT_GT(one, 500u);
  EXPECT_GT(three, one * 3 / 2) << "1 core " << one << ", 3 cores " << three;
  EXPECT_GE(eight, three) << "3 cores " << three << ", 8 cores " << eight;
}

TEST(CpuModel, MultiCoreRunsAreTheSameInFastAndRealCrypto) {
  auto fast = RunCpuBound({"cpu.cores=3", "duration_s=0.3"}, CryptoMode::kFast);
  auto real = RunCpuBound({"cpu.cores=3", "duration_s=0.3"}, CryptoMode::kReal);
  EXPECT_GT(fast->completed_requests(), 0u);
  EXPECT_EQ(fast->trace_digest(), real->trace_digest());
  EXPECT_EQ(RunCpuBound({"cpu.cores=3", "duration_s=0.3"})->trace_digest(), fast->trace_digest());
}

}  // namespace
}  // namespace geopbft
