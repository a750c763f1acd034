// Member index of a node id in one group (-1: not a member). Every received message asks, so no
// hashing and, in the common case, no memory: groups are usually a contiguous range of ids (a
// cluster, or all replicas), answered by arithmetic; otherwise a table indexed by id.
#ifndef GEOPBFT_PROTOCOL_MEMBER_INDEX_H_
#define GEOPBFT_PROTOCOL_MEMBER_INDEX_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "protocol/types.h"

namespace geopbft {

class MemberIndex {
 public:
  explicit MemberIndex(const std::vector<NodeId>& members) : n_(static_cast<uint32_t>(members.size())) {
    contiguous_ = !members.empty();
    for (uint32_t i = 0; i < members.size(); ++i) contiguous_ = contiguous_ && members[i] == members[0] + i;
    if (contiguous_) {
      first_ = members[0];
      return;
    }
    NodeId top = 0;
    for (NodeId m : members) top = std::max(top, m);
    index_of_.assign(members.empty() ? 0 : top + 1, -1);
    for (uint32_t i = 0; i < members.size(); ++i) index_of_[members[i]] = static_cast<int32_t>(i);
  }

  int Of(NodeId node) const {
    if (contiguous_) {
      const NodeId offset = node - first_;  // wraps above n_ when node < first_
      return offset < n_ ? static_cast<int>(offset) : -1;
    }
    return node < index_of_.size() ? index_of_[node] : -1;
  }
  uint32_t size() const { return n_; }

 private:
  uint32_t n_;
  bool contiguous_ = false;
  NodeId first_ = 0;
  std::vector<int32_t> index_of_;
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_MEMBER_INDEX_H_
