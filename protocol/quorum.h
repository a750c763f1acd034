// Quorum arithmetic of a BFT group of n replicas tolerating f faults.
#ifndef GEOPBFT_PROTOCOL_QUORUM_H_
#define GEOPBFT_PROTOCOL_QUORUM_H_

#include <cstdint>

namespace geopbft {

// The largest f a group of n can tolerate (n >= 3f+1).
constexpr uint32_t MaxFaults(uint32_t n) { return n == 0 ? 0 : (n - 1) / 3; }
constexpr bool GroupCanTolerate(uint32_t n, uint32_t f) { return n >= 3 * f + 1; }
// PREPAREs (from distinct backups) that, with the PRE-PREPARE, make a batch prepared.
constexpr uint32_t PrepareQuorum(uint32_t f) { return 2 * f; }
// COMMITs (from distinct replicas, own included) that make a batch committed.
constexpr uint32_t CommitQuorum(uint32_t f) { return 2 * f + 1; }
// Matching replies a client needs: at least one from a correct replica.
constexpr uint32_t ReplyQuorum(uint32_t f) { return f + 1; }

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_QUORUM_H_
