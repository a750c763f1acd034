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
#include <deque>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "protocol/crypto.h"
#include "protocol/effects.h"
#include "protocol/timestamp_window.h"

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
  // Reputation's transaction evidence: each new request reports which replicas answered an earlier
  // one with the accepted result within `reply_grace` of its acceptance.
  bool reply_evidence = false;
  TimeNs reply_grace = 500 * kMillisecond;
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
  bool done() const { return config_.mode == LoadMode::kFixedCount && completed_ >= config_.count; }

 private:
  struct Pending {
    TimeNs submitted = 0;
    TimeNs timeout = 0;
    MessagePtr request;
    absl::InlinedVector<std::pair<uint32_t, uint64_t>, 4> replies;  // (replica, result), one per replica
  };

  // An accepted request whose late replies are still being watched (reply evidence).
  struct Answered {
    uint64_t timestamp = 0;
    uint64_t result = 0;
    TimeNs accepted = 0;
    std::string bitmap;  // bit i = replica i sent `result` in time
  };

  void Submit(TimeNs now, Effects& out);
  void NoteAnswer(TimeNs now, uint64_t timestamp, uint32_t index, uint64_t result);
  void OnReply(TimeNs now, const MessagePtr& m, Effects& out);
  void OnTimer(TimeNs now, uint64_t timestamp, Effects& out);

  ClientConfig config_;
  Identity identity_;
  uint64_t next_timestamp_ = 0;
  uint64_t completed_ = 0;
  uint64_t known_view_ = 0;
  // By timestamp. Looked up on every reply, never iterated (so their layout cannot reach outputs).
  TimestampWindow<Pending> pending_;
  TimestampWindow<Answered> answered_;
  std::deque<uint64_t> answered_order_;  // timestamps, oldest acceptance first
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_CLIENT_H_
