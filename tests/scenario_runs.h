// Helpers for tests that run whole scenarios: run a file from scenarios/ (asserting agreement), and
// count what completed in a time window.
#ifndef GEOPBFT_TESTS_SCENARIO_RUNS_H_
#define GEOPBFT_TESTS_SCENARIO_RUNS_H_

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/scenario_loader.h"
#include "sim/simulation.h"

namespace geopbft::testing {

// Runs scenarios/<name>.textproto with `overrides`, in FAST crypto; fails the test on a safety
// violation.
inline std::unique_ptr<Simulation> RunFile(const std::string& name, std::vector<std::string> overrides = {}) {
  LoadedScenario l = LoadScenario(std::string(GEOPBFT_SOURCE_DIR) + "/scenarios/" + name + ".textproto", overrides);
  EXPECT_TRUE(l.ok()) << (l.errors.empty() ? "" : l.errors[0]);
  auto sim = std::make_unique<Simulation>(l.scenario, CryptoMode::kFast);
  sim->Run();
  EXPECT_EQ(sim->safety_violations(), 0u) << name << ": " << sim->first_violation();
  return sim;
}

// A simulation of scenario `text` (named `file` in errors) with `overrides`, not yet run (attach
// observers first, or Run it).
inline std::unique_ptr<Simulation> SimulationFromText(const std::string& text, const std::string& file,
                                                      std::vector<std::string> overrides = {},
                                                      CryptoMode mode = CryptoMode::kFast) {
  LoadedScenario l = LoadScenarioText(text, file, overrides);
  EXPECT_TRUE(l.ok()) << (l.errors.empty() ? "" : l.errors[0]);
  return std::make_unique<Simulation>(l.scenario, mode);
}

// Requests completed in (from_s, to_s], by reporting interval.
inline uint64_t CompletedBetween(const Simulation& sim, double from_s, double to_s) {
  uint64_t n = 0;
  for (const IntervalSample& s : sim.samples()) {
    if (s.time_s > from_s + 1e-9 && s.time_s <= to_s + 1e-9) n += s.completed;
  }
  return n;
}

}  // namespace geopbft::testing

#endif  // GEOPBFT_TESTS_SCENARIO_RUNS_H_
