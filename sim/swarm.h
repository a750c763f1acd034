// Swarm testing (in the spirit of TigerBeetle's VOPR and FoundationDB's simulation tests): a seed
// draws a whole scenario — topology, regions, load, batching, timeouts, Byzantine replicas and
// benign faults — which then runs with every checker on. Everything is a pure function of the
// seed, so a failure is replayed by its seed or by the scenario file written for it.
#ifndef GEOPBFT_SIM_SWARM_H_
#define GEOPBFT_SIM_SWARM_H_

#include <cstdint>
#include <string>

#include "scenarios/scenario.pb.h"

namespace geopbft {

struct SwarmOptions {
  // The protocols a seed may draw (empty: any of PBFT, GEOBFT, GEOBFT_REPUTATION).
  std::vector<scenario::Protocol::Kind> protocols;
  // Liveness mode (default): Byzantine replicas and crashes stay within f per cluster, and every
  // benign fault (crash, partition, lossy or slow link) heals by heal_s; after it the clients'
  // requests must complete again within the liveness bound. Safety-only mode: crashes and
  // partitions ignore the bound and need not heal; only agreement is checked.
  bool safety_only = false;
  scenario::Checks::PlantedBug planted_bug = scenario::Checks::NO_BUG;  // test only
};

// Timeline of a drawn scenario (seconds).
inline constexpr double kSwarmHealS = 5;      // every benign fault has ended by then (liveness mode)
inline constexpr double kSwarmLivenessS = 4;  // ... and the run goes on this long after (every cluster
                                              // must complete a request within it of the last heal)
inline constexpr double kSwarmDurationS = kSwarmHealS + kSwarmLivenessS;

scenario::Scenario DrawSwarmScenario(uint64_t seed, const SwarmOptions& options);

struct SwarmVerdict {
  bool ok = true;
  std::string failure;  // what went wrong, one line
  std::string digest;   // the run's trace digest (for determinism audits)
  uint64_t events = 0;
};

// Runs a drawn scenario with every checker: agreement on executed order, results accepted by
// clients equal to those honest replicas computed, role agreement under reputation, the protocols'
// design bounds (watermarks, table caps) at every metrics sample, and (liveness mode) progress
// after healing.
SwarmVerdict RunSwarmScenario(const scenario::Scenario& s, const SwarmOptions& options);

}  // namespace geopbft

#endif  // GEOPBFT_SIM_SWARM_H_
