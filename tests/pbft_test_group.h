// A PBFT group of n replicas (four by default, f = (n-1)/3) driven by hand: messages are queued and delivered only
// when a test says so, timers fire only when a test fires them, and any replica can be cut off.
#ifndef GEOPBFT_TESTS_PBFT_TEST_GROUP_H_
#define GEOPBFT_TESTS_PBFT_TEST_GROUP_H_

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "protocol/pbft_replica.h"

namespace geopbft::testing {

inline constexpr NodeId kClient = 4;

// What a hand-driven test keeps of the network: messages in flight, replies to clients, timers,
// executions, cut-off replicas and the clock; Route() takes a replica's effects into them.
struct HandRouting {
  // Routes what replica `from` (of `group`; replicas are 0..n-1, the rest clients) sent: messages
  // from or to a cut-off replica are lost.
  void Route(NodeId from, const std::vector<NodeId>& group, uint32_t n, const Effects& fx) {
    for (const Outgoing& o : fx.sends) {
      if (cut.count(from)) continue;
      if (o.to == kToGroup) {
        for (NodeId m : group) {
          if (m != from && !cut.count(m)) queue.push_back({m, o.msg});
        }
      } else if (o.to < n) {
        if (!cut.count(o.to)) queue.push_back({o.to, o.msg});
      } else {
        to_client.push_back(o.msg);
      }
    }
    for (const TimerOp& t : fx.timers) {
      if (t.cancel) {
        timers[from].erase(t.id);
      } else {
        timers[from][t.id] = t.at;
      }
    }
    for (const Execution& e : fx.executed) executed[from].push_back(e);
  }

  std::deque<std::pair<NodeId, MessagePtr>> queue;
  std::vector<MessagePtr> to_client;
  std::map<NodeId, std::vector<Execution>> executed;
  std::map<NodeId, std::map<uint64_t, TimeNs>> timers;
  std::set<NodeId> cut;
  TimeNs now = 0;
};

// A client request, signed by `client`.
inline MessagePtr SignedRequest(KeyRing& keys, uint64_t ts, NodeId client) {
  wire::Envelope env;
  env.mutable_request()->set_client(client);
  env.mutable_request()->set_timestamp(ts);
  env.mutable_request()->set_payload_size(100);
  OpCounts ops;
  return Seal(env, Identity(&keys, client), Auth::Signature(), ops);
}

class PbftGroup : public HandRouting {
 public:
  explicit PbftGroup(uint32_t batch_size = 2, uint32_t window = 64, uint32_t checkpoint_interval = 16, uint32_t n = 4,
                     bool mac_commits = false)
      : n_(n) {
    members_.clear();
    for (NodeId i = 0; i < n; ++i) members_.push_back(i);
    for (NodeId i = 0; i < n; ++i) {
      PbftConfig cfg;
      cfg.members = members_;
      cfg.self_index = i;
      cfg.f = (n - 1) / 3;
      cfg.batch_size = batch_size;
      cfg.batch_timeout = kMillisecond;
      cfg.window = window;
      cfg.checkpoint_interval = checkpoint_interval;
      cfg.request_timeout = kSecond;
      cfg.mac_commits = mac_commits;
      replicas.push_back(std::make_unique<PbftReplica>(cfg, Identity(&keys, i)));
    }
  }

  MessagePtr Request(uint64_t ts, NodeId client = kClient) { return SignedRequest(keys, ts, client); }

  // Steps replica `to` with `in` and routes what it sends (messages from or to a cut-off replica
  // are lost).
  Effects StepAndRoute(NodeId to, const Input& in) {
    Effects fx = replicas[to]->Step(now, in);
    Route(to, members_, n_, fx);
    return fx;
  }

  // Delivers everything in flight (and what that causes) in FIFO order.
  void Pump(int limit = 1000000) {
    while (!queue.empty() && limit-- > 0) {
      auto [to, m] = queue.front();
      queue.pop_front();
      if (cut.count(to)) continue;
      StepAndRoute(to, Input::Deliver(m));
    }
  }

  // Delivers everything in flight in FIFO order, each message only if `deliver(to, m)` says so
  // (what it drops is lost; it may also look at, or hand-deliver, what passes).
  template <typename Deliver>
  void PumpWhere(Deliver deliver) {
    while (!queue.empty()) {
      auto [to, m] = queue.front();
      queue.pop_front();
      if (!cut.count(to) && deliver(to, m)) StepAndRoute(to, Input::Deliver(m));
    }
  }

  // Fires timer `id` of replica `r` if it is pending.
  bool Fire(NodeId r, uint64_t id) {
    auto it = timers[r].find(id);
    if (it == timers[r].end()) return false;
    now = std::max(now, it->second);
    timers[r].erase(it);
    StepAndRoute(r, Input::Timer(id));
    return true;
  }

  // A request as a client re-sends it: to every replica.
  void Broadcast(const MessagePtr& request) {
    for (NodeId r = 0; r < n_; ++r) {
      if (!cut.count(r)) StepAndRoute(r, Input::Deliver(request));
    }
  }

  uint32_t n_ = 4;  // replicas 0..n-1; clients have ids from n on (kClient = 4 with four replicas)
  KeyRing keys{1, CryptoMode::kFast};
  std::vector<NodeId> members_ = {0, 1, 2, 3};
  std::vector<std::unique_ptr<PbftReplica>> replicas;
};

inline int CountType(const Effects& fx, MsgType t) {
  int n = 0;
  for (const Outgoing& o : fx.sends) n += o.msg->type == t;
  return n;
}

}  // namespace geopbft::testing

#endif  // GEOPBFT_TESTS_PBFT_TEST_GROUP_H_
