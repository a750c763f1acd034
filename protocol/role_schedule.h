// Who votes and who leads in a PBFT group, per sequence number.
//
// Without reputation there is one epoch forever: every member votes and the leader of view v is
// member v mod n (plain PBFT). With reputation, the global layer adds an epoch each time it
// re-selects roles from committed scores; an epoch names the voting committee (best first) and
// applies from its first sequence number on. Because roles come from committed data only, every
// correct replica that knows an epoch knows the same one.
#ifndef GEOPBFT_PROTOCOL_ROLE_SCHEDULE_H_
#define GEOPBFT_PROTOCOL_ROLE_SCHEDULE_H_

#include <bit>
#include <cstdint>
#include <vector>

#include "absl/container/btree_map.h"

namespace geopbft {

struct RoleEpoch {
  uint64_t first_seq = 1;
  std::vector<uint32_t> ranked;  // committee member indexes, best first
  std::vector<uint64_t> mask;    // bitset over member indexes: the committee
  uint64_t base_view = 0;        // the leader of view v is ranked[(v - base_view) mod size]

  static RoleEpoch Of(uint64_t first_seq, std::vector<uint32_t> ranked, uint64_t base_view) {
    RoleEpoch e;
    e.first_seq = first_seq;
    e.base_view = base_view;
    for (uint32_t i : ranked) {
      if (i / 64 >= e.mask.size()) e.mask.resize(i / 64 + 1, 0);
      e.mask[i / 64] |= uint64_t{1} << (i % 64);
    }
    e.ranked = std::move(ranked);
    return e;
  }
  uint32_t size() const { return static_cast<uint32_t>(ranked.size()); }
  bool Votes(uint32_t index) const { return index / 64 < mask.size() && (mask[index / 64] >> (index % 64)) & 1; }
  uint32_t Leader(uint64_t view) const {
    uint64_t m = ranked.size();
    return ranked[(view % m + m - base_view % m) % m];
  }
  // How many of the members in `bits` sit on the committee.
  uint32_t Count(const std::vector<uint64_t>& bits) const {
    uint32_t n = 0;
    for (size_t w = 0; w < bits.size() && w < mask.size(); ++w) n += std::popcount(bits[w] & mask[w]);
    return n;
  }
};

class RoleSchedule {
 public:
  // Everyone votes, the leader rotates with the view; known for every sequence number.
  static RoleSchedule Everyone(uint32_t n) {
    std::vector<uint32_t> all(n);
    for (uint32_t i = 0; i < n; ++i) all[i] = i;
    RoleSchedule s;
    s.epochs_.emplace(1, RoleEpoch::Of(1, std::move(all), 0));
    return s;
  }

  // Roles are known up to `known_until` (inclusive); beyond it a replica waits for them.
  bool Known(uint64_t seq) const { return seq <= known_until_; }
  uint64_t known_until() const { return known_until_; }
  void set_known_until(uint64_t s) { known_until_ = s; }

  // The epoch governing `seq` (the latest starting at or below it; the oldest kept one for a
  // sequence number older than every epoch still kept).
  const RoleEpoch& At(uint64_t seq) const {
    if (epochs_.size() == 1) return epochs_.begin()->second;  // the common case: one epoch kept
    auto it = epochs_.upper_bound(seq);
    return it == epochs_.begin() ? it->second : std::prev(it)->second;
  }
  void Add(RoleEpoch e) { epochs_[e.first_seq] = std::move(e); }
  // Drops epochs wholly below `seq` (keeps the one governing it).
  void ForgetBelow(uint64_t seq) {
    while (epochs_.size() > 1 && std::next(epochs_.begin())->first <= seq) epochs_.erase(epochs_.begin());
  }
  const absl::btree_map<uint64_t, RoleEpoch>& epochs() const { return epochs_; }

 private:
  absl::btree_map<uint64_t, RoleEpoch> epochs_;
  uint64_t known_until_ = UINT64_MAX;
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_ROLE_SCHEDULE_H_
