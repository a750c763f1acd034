// Observers: everything a run measures or checks (metrics, agreement, replies, roles, bounds, stalls,
// reputation, events, the trace) sits behind this one interface. The engine (Simulation) tells
// them what happened - a message sent or delivered, a replica's or a client's step, a fault, a
// metrics sample, every dispatched event - and they never see a host: replicas reach them through
// the protocol-neutral Replica view. To add one: derive from Observer, override the hooks it needs,
// list them in interests(), and register it in Simulation's constructor (simulation_setup.cc).
#ifndef GEOPBFT_SIM_OBSERVER_H_
#define GEOPBFT_SIM_OBSERVER_H_

#include <cstdint>
#include <vector>

#include "protocol/effects.h"
#include "protocol/message.h"
#include "protocol/replica.h"
#include "protocol/types.h"
#include "scenarios/scenario.pb.h"

namespace geopbft {

class ByzantineBehaviour;

// The engine's event kinds (the trace records them by number: keep the order).
enum class EventKind : uint8_t { kDeliver, kTimer, kCpuDone, kSubmit, kSample, kFault, kDelayedSend };

// One event taken from the queue, before it is handled.
struct EventSeen {
  EventKind kind;
  NodeId target;
  NodeId source;
  uint64_t timer_id;   // kTimer: the timer; kFault: the transition
  const Message* msg;  // kDeliver, kDelayedSend
  uint8_t instance;    // 1: a TWIN's instance B is the target (kDelayedSend: the source)
};

// A message handed to the network.
struct Transmission {
  NodeId from;
  NodeId to;
  const Message& msg;
  uint32_t from_cluster;
  bool from_client;
  bool wan;   // crosses regions
  bool lost;  // dropped by the network, a partition or a link fault
};

// A replica's step, once its CPU finished it: its effects (after any Byzantine rewriting) and its
// state through the protocol-neutral view.
struct ReplicaStep {
  NodeId replica;
  uint32_t cluster;
  uint32_t group;  // its PBFT group (the cluster under GeoBFT, 0 for flat PBFT)
  bool honest;     // no Byzantine behaviour configured
  const Effects& fx;
  const Replica& state;
};

// A client's step.
struct ClientStep {
  NodeId client;
  uint32_t cluster;
  const Effects& fx;
};

// A fault schedule transition.
struct FaultSeen {
  bool start;
  const scenario::Fault& fault;
};

// One replica at a metrics sample.
struct ReplicaAtSample {
  const Replica* state;
  uint32_t cluster;
  bool crashed;
  const std::vector<ByzantineBehaviour>* byzantine;  // empty: honest
  bool ByzantineActive(TimeNs now) const;
  size_t inbox;           // inputs waiting for the CPU
  TimeNs cpu_busy_until;  // the CPU is busy with an input until then (0: idle)
};

struct ClientAtSample {
  uint64_t outstanding;
  uint64_t completed;
};

// The world at a metrics sample: each replica and client.
struct WorldAtSample {
  TimeNs since;  // the previous sample (0 for the first)
  const std::vector<ReplicaAtSample>& replicas;
  const std::vector<ClientAtSample>& clients;
  uint64_t outstanding;  // requests outstanding over all clients
};

class Observer {
 public:
  enum Interest : uint32_t {
    kEvents = 1,
    kTransmissions = 2,
    kDeliveries = 4,
    kReplicaSteps = 8,
    kClientSteps = 16,
    kFaults = 32,
    kSamples = 64,
    kFinish = 128,
  };
  virtual ~Observer() = default;
  // Which hooks it overrides (Interest bits): the engine calls only those, and most calls are on
  // the hottest paths of the run.
  virtual uint32_t interests() const = 0;

  virtual void OnEvent(TimeNs now, const EventSeen& e) {}
  virtual void OnTransmit(TimeNs now, const Transmission& t) {}
  virtual void OnDelivered(TimeNs now, NodeId to) {}
  virtual void OnReplicaStep(TimeNs now, const ReplicaStep& s) {}
  virtual void OnClientStep(TimeNs now, const ClientStep& s) {}
  virtual void OnFault(TimeNs now, const FaultSeen& f) {}
  virtual void OnSample(TimeNs now, const WorldAtSample& w) {}
  virtual void OnFinish(TimeNs now) {}
};

// The observers of a run, each hook's in registration order.
class ObserverSet {
 public:
  void Add(Observer* o) {
    const uint32_t i = o->interests();
    for (uint32_t bit = 0; bit < kHooks; ++bit) {
      if (i & (1u << bit)) by_hook_[bit].push_back(o);
    }
  }
  void Event(TimeNs now, const EventSeen& e) const {
    for (Observer* o : by_hook_[0]) o->OnEvent(now, e);
  }
  void Transmit(TimeNs now, const Transmission& t) const {
    for (Observer* o : by_hook_[1]) o->OnTransmit(now, t);
  }
  void Delivered(TimeNs now, NodeId to) const {
    for (Observer* o : by_hook_[2]) o->OnDelivered(now, to);
  }
  void ReplicaStepped(TimeNs now, const ReplicaStep& s) const {
    for (Observer* o : by_hook_[3]) o->OnReplicaStep(now, s);
  }
  void ClientStepped(TimeNs now, const ClientStep& s) const {
    for (Observer* o : by_hook_[4]) o->OnClientStep(now, s);
  }
  void Fault(TimeNs now, const FaultSeen& f) const {
    for (Observer* o : by_hook_[5]) o->OnFault(now, f);
  }
  void Sample(TimeNs now, const WorldAtSample& w) const {
    for (Observer* o : by_hook_[6]) o->OnSample(now, w);
  }
  void Finish(TimeNs now) const {
    for (Observer* o : by_hook_[7]) o->OnFinish(now);
  }

 private:
  static constexpr uint32_t kHooks = 8;
  std::vector<Observer*> by_hook_[kHooks];
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_OBSERVER_H_
