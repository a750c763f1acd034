// Quorum arithmetic of a BFT group of n replicas tolerating f faults (n >= 3f+1).
//
// A quorum is the smallest set such that any two quorums share at least f+1 replicas (so at least
// one correct one): ceil((n+f+1)/2). For the usual n = 3f+1 that is 2f+1; for larger n (e.g. 60
// replicas, f = 19) it is more than 2f+1, which would not be safe.
#ifndef GEOPBFT_PROTOCOL_QUORUM_H_
#define GEOPBFT_PROTOCOL_QUORUM_H_

#include <cstdint>

namespace geopbft {

// The largest f a group of n can tolerate (n >= 3f+1).
constexpr uint32_t MaxFaults(uint32_t n) { return n == 0 ? 0 : (n - 1) / 3; }
constexpr bool GroupCanTolerate(uint32_t n, uint32_t f) { return n >= 3 * f + 1; }
constexpr uint32_t Quorum(uint32_t n, uint32_t f) { return (n + f + 2) / 2; }
// PREPAREs (from distinct backups) that, with the PRE-PREPARE, make a batch prepared.
constexpr uint32_t PrepareQuorum(uint32_t n, uint32_t f) { return Quorum(n, f) - 1; }
// COMMITs (from distinct replicas, own included) that make a batch committed; also CHECKPOINTs
// for a stable checkpoint and VIEW-CHANGEs for a new view.
constexpr uint32_t CommitQuorum(uint32_t n, uint32_t f) { return Quorum(n, f); }
// Matching replies a client needs: at least one from a correct replica.
constexpr uint32_t ReplyQuorum(uint32_t f) { return f + 1; }

static_assert(Quorum(4, 1) == 3 && Quorum(7, 2) == 5 && Quorum(31, 10) == 21);
static_assert(Quorum(60, 19) == 40 && Quorum(30, 9) == 20);

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_QUORUM_H_
