// Reads, overrides and validates scenario files. Every problem is reported as
// `file:line:col: message` (1-based), so an editor can jump to it; the caller exits with status 2.
#ifndef GEOPBFT_SIM_SCENARIO_LOADER_H_
#define GEOPBFT_SIM_SCENARIO_LOADER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "protocol/reputation.h"
#include "scenarios/scenario.pb.h"

namespace geopbft {

struct LoadedScenario {
  scenario::Scenario scenario;
  std::vector<std::string> errors;  // empty when the scenario is usable
  bool ok() const { return errors.empty(); }
};

// Parses `path`, applies `overrides` (each "dotted.path=value"), fills `name` from the file name when
// empty, and validates. Errors of overrides are reported as "--set=...: message".
LoadedScenario LoadScenario(const std::string& path, const std::vector<std::string>& overrides);

// Same from text already in memory (`path` is only used in messages).
LoadedScenario LoadScenarioText(absl::string_view text, const std::string& path,
                                const std::vector<std::string>& overrides);

// Sets one field by its dotted path (e.g. "topology.replicas_per_cluster=10",
// "network.regions[0].name=paris"), through protobuf reflection.
absl::Status ApplyOverride(scenario::Scenario& s, absl::string_view assignment);

// Derived facts every consumer needs.
uint32_t TotalReplicas(const scenario::Scenario& s);
uint32_t GroupSize(const scenario::Scenario& s);    // the flat group (PBFT) or one cluster (GeoBFT)
uint32_t GroupFaults(const scenario::Scenario& s);  // f of each such group
// Reputation is on: GEOBFT_REPUTATION (unless protocol.reputation.enabled is false), or PBFT with a
// protocol.reputation block whose `enabled` is true (flat PBFT as one reputation-managed cluster).
bool UsesReputation(const scenario::Scenario& s);
ReputationParams ToReputationParams(const scenario::Reputation& r);

// Parses a protobuf text file (e.g. a sweep) with the same located errors; false on failure.
bool ParseTextFile(const std::string& path, google::protobuf::Message* msg, std::vector<std::string>* errors);

// The effective scenario as text, for replay: parsing it back gives the same scenario.
std::string ScenarioToText(const scenario::Scenario& s);

}  // namespace geopbft

#endif  // GEOPBFT_SIM_SCENARIO_LOADER_H_
