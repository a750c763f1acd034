// Which clusters' certificates a GeoBFT replica holds for the rounds it is about to execute: one
// bit per (round, cluster), in a ring over `span` rounds starting at the next round to execute.
//
// Every certificate reaches a replica f+1 times (once from each replica of its cluster that was
// sent it and re-broadcast it), so "do I have it already?" is by far the most frequent question a
// replica answers at scale. The certificate table answers it with a tree walk and a digest
// compare, several cache misses; a bit answers it from one cache line. The table stays the truth:
// the replica updates the bits wherever it changes the table, and checks both agree when its
// bounds are audited.
#ifndef GEOPBFT_PROTOCOL_ROUND_PRESENCE_H_
#define GEOPBFT_PROTOCOL_ROUND_PRESENCE_H_

#include <algorithm>
#include <cstdint>
#include <vector>

namespace geopbft {

class RoundPresence {
 public:
  RoundPresence(uint64_t span, uint32_t clusters)
      : span_(std::max<uint64_t>(1, span)), words_((clusters + 63) / 64), bits_(span_ * words_, 0) {}

  uint64_t span() const { return span_; }
  // Whether `round` is in the ring when `first` is the next round to execute.
  bool Covers(uint64_t round, uint64_t first) const { return round >= first && round - first < span_; }

  bool Test(uint64_t round, uint32_t cluster) const { return (Word(round, cluster) >> (cluster % 64)) & 1; }
  void Assign(uint64_t round, uint32_t cluster, bool present) {
    uint64_t& w = Word(round, cluster);
    const uint64_t bit = uint64_t{1} << (cluster % 64);
    w = present ? (w | bit) : (w & ~bit);
  }
  // The round left the ring (executed, or skipped by a snapshot): its slot serves round + span.
  void ClearRound(uint64_t round) {
    std::fill_n(bits_.begin() + static_cast<std::ptrdiff_t>((round % span_) * words_), words_, 0);
  }
  void ClearAll() { std::fill(bits_.begin(), bits_.end(), 0); }

 private:
  uint64_t& Word(uint64_t round, uint32_t cluster) { return bits_[(round % span_) * words_ + cluster / 64]; }
  const uint64_t& Word(uint64_t round, uint32_t cluster) const {
    return bits_[(round % span_) * words_ + cluster / 64];
  }

  uint64_t span_;
  uint64_t words_;
  std::vector<uint64_t> bits_;
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_ROUND_PRESENCE_H_
