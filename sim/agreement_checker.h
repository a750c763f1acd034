// Safety observer: no two honest replicas may execute different batches at one sequence number.
// Entries are forgotten once every replica has executed them, so memory follows the spread between
// the fastest and the slowest replica, not the length of the run.
#ifndef GEOPBFT_SIM_AGREEMENT_CHECKER_H_
#define GEOPBFT_SIM_AGREEMENT_CHECKER_H_

#include <cstdint>
#include <string>

#include "absl/container/btree_map.h"
#include "protocol/effects.h"

namespace geopbft {

class AgreementChecker {
 public:
  explicit AgreementChecker(uint32_t honest_replicas) : honest_(honest_replicas) {}

  void OnExecuted(NodeId replica, const Execution& ex, TimeNs now);

  uint64_t violations() const { return violations_; }
  const std::string& first_violation() const { return first_violation_; }
  size_t tracked() const { return executed_.size(); }

 private:
  struct Entry {
    Digest digest;
    NodeId first_replica = 0;
    uint32_t count = 0;
  };
  static constexpr size_t kMaxTracked = 1 << 16;
  uint32_t honest_;
  absl::btree_map<uint64_t, Entry> executed_;
  uint64_t violations_ = 0;
  std::string first_violation_;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_AGREEMENT_CHECKER_H_
