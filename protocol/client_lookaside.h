// The entries of a per-client table (a replica's at-most-once records, its kept answers) that the
// execution of one batch looks up for each of its requests, held for the last few clients.
//
// Why: a batch interleaves the runs of a few clients (a cluster's clients' requests reach the
// primary shuffled by the network's jitter), so holding the current client's entry alone looked
// the table up again at nearly every request: a btree descent each, a sixth of execution's
// instructions. The tables stay ordered maps (snapshots iterate them in client order); entries of
// a btree move when another is inserted, so an insertion drops everything held.
#ifndef GEOPBFT_PROTOCOL_CLIENT_LOOKASIDE_H_
#define GEOPBFT_PROTOCOL_CLIENT_LOOKASIDE_H_

#include <cstddef>

#include "protocol/types.h"

namespace geopbft {

template <typename Map, int kWays = 4>
class ClientLookaside {
 public:
  using Entry = typename Map::mapped_type;
  explicit ClientLookaside(Map& map) : map_(map) {}

  // map[client], inserting a default entry when absent.
  Entry& operator[](NodeId client) {
    for (int i = 0; i < held_; ++i) {
      if (ids_[i] == client) return *entries_[i];
    }
    const size_t before = map_.size();
    Entry& entry = map_[client];
    if (map_.size() != before) held_ = 0;  // inserted: what was held may have moved
    const int slot = held_ < kWays ? held_++ : static_cast<int>(evict_++ % kWays);
    ids_[slot] = client;
    entries_[slot] = &entry;
    return entry;
  }

 private:
  Map& map_;
  NodeId ids_[kWays] = {};
  Entry* entries_[kWays] = {};
  int held_ = 0;
  unsigned evict_ = 0;
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_CLIENT_LOOKASIDE_H_
