// A client as a pure state machine. It sends each request to the replica it believes is the
// primary, accepts the result once f+1 replicas sent matching replies, and on timeout re-sends the
// request to every replica with exponential back-off.
//
// Load shapes: CLOSED_LOOP keeps `outstanding` requests in flight; FIXED_COUNT sends `count`
// requests one after another; OPEN_LOOP sends one request per Submit input (the simulator draws the
// Poisson arrival times from the client's random stream).
#ifndef GEOPBFT_PROTOCOL_CLIENT_H_
#define GEOPBFT_PROTOCOL_CLIENT_H_

#include <cstdint>
#include <vector>

#include "absl/container/btree_map.h"
#include "protocol/crypto.h"
#include "protocol/effects.h"

namespace geopbft {

enum class LoadMode { kClosedLoop, kOpenLoop, kFixedCount };

struct ClientConfig {
  std::vector<NodeId> replicas;  // the group serving this client, in member order
  uint32_t f = 0;
  LoadMode mode = LoadMode::kClosedLoop;
  uint32_t outstanding = 1;  // kClosedLoop
  uint64_t count = 0;        // kFixedCount
  uint32_t payload_size = 0;
  TimeNs retransmit_timeout = 2 * kSecond;
};

class Client {
 public:
  Client(ClientConfig config, Identity identity);

  void Step(TimeNs now, const Input& in, Effects& out);

  NodeId self() const { return identity_.self(); }
  size_t outstanding() const { return pending_.size(); }
  uint64_t sent() const { return next_timestamp_; }
  uint64_t completed() const { return completed_; }
  // FIXED_COUNT: every request answered.
  bool done() const {
    return config_.mode == LoadMode::kFixedCount && completed_ >= config_.count;
  }

 private:
  struct Pending {
    TimeNs submitted = 0;
    TimeNs timeout = 0;
    MessagePtr request;
    std::vector<std::pair<uint32_t, uint64_t>> replies;  // (replica, result), one per replica
  };

  void Submit(TimeNs now, Effects& out);
  void OnReply(TimeNs now, const MessagePtr& m, Effects& out);
  void OnTimer(TimeNs now, uint64_t timestamp, Effects& out);

  ClientConfig config_;
  Identity identity_;
  uint64_t next_timestamp_ = 0;
  uint64_t completed_ = 0;
  uint64_t known_view_ = 0;
  absl::btree_map<uint64_t, Pending> pending_;  // by timestamp
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_CLIENT_H_
