// A slot's votes as bitmaps over the group's member indexes: who voted, who matched the slot's
// digest, who voted for another.
#include "protocol/pbft_replica.h"

namespace geopbft {

bool PbftVoteSet::Mark(uint32_t index) {
  size_t word = index / 64;
  if (word >= seen.size()) seen.resize(word + 1, 0);
  uint64_t bit = uint64_t{1} << (index % 64);
  if (seen[word] & bit) return false;
  seen[word] |= bit;
  return true;
}

bool PbftVoteSet::Has(uint32_t index) const {
  size_t word = index / 64;
  return word < seen.size() && (seen[word] >> (index % 64)) & 1;
}

void PbftVoteSet::SetMatch(uint32_t index) {
  size_t word = index / 64;
  if (word >= match.size()) match.resize(word + 1, 0);
  match[word] |= uint64_t{1} << (index % 64);
}

void PbftVoteSet::SetConflict(uint32_t index) {
  size_t word = index / 64;
  if (word >= conflict.size()) conflict.resize(word + 1, 0);
  conflict[word] |= uint64_t{1} << (index % 64);
}

bool PbftVoteSet::Matches(uint32_t index) const {
  size_t word = index / 64;
  return word < match.size() && (match[word] >> (index % 64)) & 1;
}

}  // namespace geopbft
