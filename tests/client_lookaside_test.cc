#include "protocol/client_lookaside.h"

#include <map>
#include <random>

#include "absl/container/btree_map.h"
#include "gtest/gtest.h"

namespace geopbft {
namespace {

// Whatever the order of lookups and insertions, the lookaside hands out the map's own entry for
// each client: writes through it land in the map, and an entry held before other clients were
// inserted (which moves btree entries) is never handed out stale.
TEST(ClientLookaside, HandsOutTheMapsOwnEntryThroughInsertions) {
  absl::btree_map<NodeId, uint64_t> table;
  std::map<NodeId, uint64_t> reference;
  std::mt19937_64 rng(7);
  for (int batch = 0; batch < 200; ++batch) {
    ClientLookaside entries(table);
    for (int i = 0; i < 100; ++i) {
      // Mostly a few clients (a batch's runs), now and then a new one (an insertion mid-batch).
      const NodeId client = rng() % 8 == 0 ? static_cast<NodeId>(rng() % 5000) : static_cast<NodeId>(rng() % 6);
      uint64_t& got = entries[client];
      EXPECT_EQ(&got, &table[client]);
      got += client + 1;
      reference[client] += client + 1;
    }
  }
  EXPECT_EQ(table.size(), reference.size());
  for (const auto& [client, value] : reference) EXPECT_EQ(table[client], value) << client;
}

}  // namespace
}  // namespace geopbft
