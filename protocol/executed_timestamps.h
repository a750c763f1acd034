// The timestamps of one client's requests that have executed: at-most-once bookkeeping. A client
// may have many requests outstanding and the network may reorder them, so execution is tracked per
// timestamp: everything up to `low`, plus the executed ones above it. Memory follows the number of
// requests in flight, not the length of the run.
#ifndef GEOPBFT_PROTOCOL_EXECUTED_TIMESTAMPS_H_
#define GEOPBFT_PROTOCOL_EXECUTED_TIMESTAMPS_H_

#include <cstdint>

#include "absl/container/btree_set.h"

namespace geopbft {

struct ExecutedTimestamps {
  uint64_t low = 0;                 // every timestamp <= low has executed
  absl::btree_set<uint64_t> above;  // executed timestamps > low

  bool Contains(uint64_t ts) const { return ts <= low || above.contains(ts); }
  // Records `ts` as executed; false when it already was.
  bool Insert(uint64_t ts) {
    if (ts == low + 1 && above.empty()) {  // the usual case: in order, nothing pending above
      low = ts;
      return true;
    }
    if (Contains(ts)) return false;
    above.insert(ts);
    while (!above.empty() && *above.begin() == low + 1) {
      above.erase(above.begin());
      ++low;
    }
    return true;
  }
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_EXECUTED_TIMESTAMPS_H_
