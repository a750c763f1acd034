// Safety observer for what clients see: a result a client accepted (f+1 matching replies) must be
// the result honest replicas computed when they executed that request, and every honest replica
// must compute the same result for it. The agreement checker compares batches per position; this
// one catches what it cannot see — a request answered from the wrong position, executed twice, or
// deduplicated differently by a replica that caught up by state transfer.
#ifndef GEOPBFT_SIM_REPLY_CHECKER_H_
#define GEOPBFT_SIM_REPLY_CHECKER_H_

#include <cstdint>
#include <deque>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "protocol/effects.h"

namespace geopbft {

class ReplyChecker {
 public:
  explicit ReplyChecker(uint32_t honest_replicas) : honest_(honest_replicas) {}

  void OnExecuted(NodeId replica, const RequestResult& r, TimeNs now);
  void OnAccepted(NodeId client, const Completion& c);

  uint64_t violations() const { return violations_; }
  const std::string& first_violation() const { return first_violation_; }
  // Accepted results that could not be compared (their executions were forgotten to bound memory).
  uint64_t unverified() const { return unverified_; }
  size_t tracked() const { return requests_.size(); }

 private:
  struct Entry {
    uint64_t result = 0;
    NodeId first_replica = 0;
    uint32_t executions = 0;  // by honest replicas
    bool accepted = false;
  };
  using Key = std::pair<NodeId, uint64_t>;  // (client, timestamp)
  static constexpr size_t kMaxTracked = 1 << 16;
  void Violation(std::string what);

  uint32_t honest_;
  // Looked up once per request per executing replica (every replica executes every request), never
  // iterated: a hash map keeps the lookup off the run's critical path without touching outputs.
  absl::flat_hash_map<Key, Entry> requests_;
  std::deque<Key> order_;  // insertion order, to forget the oldest first
  bool forgot_ = false;
  uint64_t violations_ = 0, unverified_ = 0;
  std::string first_violation_;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_REPLY_CHECKER_H_
