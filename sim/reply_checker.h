// Safety observer for what clients see: a result a client accepted (f+1 matching replies) must be
// the result honest replicas computed when they executed that request, and every honest replica
// must compute the same result for it. The agreement checker compares batches per position; this
// one catches what it cannot see — a request answered from the wrong position, executed twice, or
// deduplicated differently by a replica that caught up by state transfer.
#ifndef GEOPBFT_SIM_REPLY_CHECKER_H_
#define GEOPBFT_SIM_REPLY_CHECKER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "protocol/effects.h"
#include "protocol/ring_deque.h"
#include "protocol/timestamp_window.h"

namespace geopbft {

class ReplyChecker {
 public:
  explicit ReplyChecker(uint32_t honest_replicas) : honest_(honest_replicas) {}

  void OnExecuted(NodeId replica, const RequestResult& r, TimeNs now);
  // The results of one batch a replica executed at `position`, in execution order: the same as
  // OnExecuted of each. Every replica executes every batch, and once one has reported a position
  // the others' identical reports only count (compared as a whole, not looked up per request:
  // those lookups were a twentieth of a GeoBFT run's instructions).
  void OnExecutedBatch(NodeId replica, uint64_t position, const RequestResult* results, size_t n, TimeNs now);
  void OnAccepted(NodeId client, const Completion& c);

  uint64_t violations() const { return violations_; }
  const std::string& first_violation() const { return first_violation_; }
  // Accepted results that could not be compared (their executions were forgotten to bound memory).
  uint64_t unverified() const { return unverified_; }
  size_t tracked() const { return tracked_; }

 private:
  struct Entry {
    uint64_t result = 0;
    NodeId first_replica = 0;
    uint32_t executions = 0;  // by honest replicas (not yet counting its batch's repeats)
    bool accepted = false;
    // The position of the batch whose repeats it has yet to count (0: none). 32 bits, so that an
    // entry stays 24 bytes: a lagging replica's requests stay tracked by the ten thousand.
    uint32_t batch = 0;
  };
  using Key = std::pair<NodeId, uint64_t>;  // (client, timestamp)
  // A position reported by a first replica, whose entries it alone created (else, or once any of
  // them is forgotten, it is `per_request`: every later report goes through OnExecuted). Later
  // identical reports are `repeats`, counted into the entries' executions when the last honest
  // replica reports it (or the record is dropped).
  struct Batch {
    std::vector<RequestResult> results;
    // Of `results` (see Fingerprint): what later reports are compared by. Reading the first
    // report again for each of them missed the cache on every line of it (each replica reports a
    // position at its own time), a twentieth of a GeoBFT run's misses.
    uint64_t fingerprint = 0;
    uint32_t repeats = 0;
    bool per_request = false;
  };
  // Positions whose reports are awaited: about three simulated seconds of a default run, where the
  // honest replicas' reports of a position arrive within a fraction of a second. A replica that
  // lags further (or skipped them by state transfer) reports them one by one. Reached early in a
  // run, so memory stays flat after it (4,096 took 23 s to fill, and the soak test caught the
  // default's peak growing 15% from 20 to 60 s).
  static constexpr size_t kMaxBatches = 1 << 9;
  // The entry's executions with its batch's repeats.
  uint32_t Executions(const Entry& e) const;
  // Counts a batch's repeats into its entries (erasing those now complete and accepted).
  void Settle(uint64_t position, Batch& b);
  // Settles the batch at `position` and takes its later reports one by one (its counts are exact
  // from then on): when one of its requests is reported from elsewhere, completed early or
  // forgotten, or a report of it differs.
  void SettleForGood(uint64_t position);
  void Forget(const Key& key);  // the oldest entry, to bound memory
  static constexpr size_t kMaxTracked = 1 << 16;
  void Violation(std::string what);

  // The tracked requests: a key-value table with the oldest insertion forgotten first. Looked up
  // once per request per executing replica (every replica executes every request), so it is laid
  // out for that: each client's requests in a window indexed by timestamp (a client numbers its
  // requests in order, and a batch executes runs of one client's requests), anything else (a
  // timestamp far from the client's others) in a hash map. Never iterated: the layout cannot
  // reach outputs.
  static constexpr NodeId kMaxWindowedClient = 1 << 16;
  static constexpr uint64_t kMaxWindowSpan = 1 << 20;
  Entry* Find(const Key& key);
  Entry& Insert(const Key& key, const Entry& e);  // key must not be present
  void Erase(const Key& key);

  uint32_t honest_;
  std::vector<TimestampWindow<Entry>> windows_;  // by client id
  absl::flat_hash_map<Key, Entry> elsewhere_;    // keys no window can hold
  size_t tracked_ = 0;
  RingDeque<Key> order_;                          // insertion order, to forget the oldest first
  absl::flat_hash_map<uint64_t, Batch> batches_;  // by position; never iterated
  RingDeque<uint64_t> batch_order_;               // positions, oldest first, to bound batches_
  bool forgot_ = false;
  uint64_t violations_ = 0, unverified_ = 0;
  std::string first_violation_;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_REPLY_CHECKER_H_
