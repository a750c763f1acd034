// The simulation of one scenario: builds the world (replica hosts, clients, network, CPU model),
// owns the clock and the event queue, runs the real protocol state machines, and feeds observers
// (trace digest, metrics, agreement and liveness checkers). Single-threaded and deterministic:
// the same scenario and seed give the same events in the same order.
#ifndef GEOPBFT_SIM_SIMULATION_H_
#define GEOPBFT_SIM_SIMULATION_H_

#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "protocol/client.h"
#include "protocol/crypto.h"
#include "protocol/effects.h"
#include "protocol/replica.h"
#include "scenarios/scenario.pb.h"
#include "sim/bounds_observer.h"
#include "sim/byzantine.h"
#include "sim/cpu_model.h"
#include "sim/event_queue.h"
#include "sim/fault_schedule.h"
#include "sim/metrics_observer.h"
#include "sim/network.h"
#include "sim/observer.h"
#include "sim/reputation_observer.h"
#include "sim/rng.h"
#include "sim/run_events.h"
#include "sim/safety_observer.h"
#include "sim/stall_observer.h"
#include "sim/topology.h"
#include "sim/trace_observer.h"

namespace geopbft {

struct ReplicaStats {
  uint64_t messages_sent = 0, bytes_sent = 0;
  uint64_t messages_received = 0, bytes_received = 0;
  uint64_t votes_sent = 0;
  uint64_t rejected = 0;
  uint64_t inbox_dropped = 0;  // arrived at a full receive buffer
  uint64_t executed_batches = 0, executed_requests = 0;
  TimeNs cpu_busy = 0;
};

class Simulation {
 public:
  // `trace_sink`, when not null, receives trace.log lines.
  Simulation(const scenario::Scenario& scenario, CryptoMode crypto, std::FILE* trace_sink = nullptr);
  ~Simulation();

  // Runs to the end of the scenario. `progress` (may be empty) is called now and then with the
  // fraction of simulated time done; it must not influence the run.
  void Run(const std::function<void(double)>& progress = {});
  // Stops Run() at the next event (from its progress callback): the user gave up on the run.
  void Interrupt() { interrupted_ = true; }
  bool interrupted() const { return interrupted_; }

  // `run --trace`: every PRE-PREPARE, COMMIT and CHECKPOINT a replica sends (as sent, Byzantine
  // rewriting included) goes to `sink` as "<time_ns> <to or -1> <hex envelope>" for the auditor.
  void RecordSentMessages(std::FILE* sink);
  // `run --trace=FILTER`: which events trace.log shows (the digest still folds every event).
  void FilterTrace(const TraceFilter& f) { obs_->trace.SetFilter(f); }
  // Attaches an observer of one's own (the caller keeps it alive through Run): it hears every
  // event, send, delivery, step, fault and sample after the built-in observers (sim/observer.h).
  void AddObserver(Observer* o) { obs_->all.Add(o); }

  // Tests: keep every replica's executed (position, digest) sequence.
  void RecordExecutions() { record_executions_ = true; }
  const std::vector<Execution>& executions(uint32_t r) const { return replicas_[r].history; }

  // What run this is (for outputs): the scenario's name, protocol and seed.
  struct Label {
    std::string scenario, protocol;
    uint64_t seed = 0;
  };
  const Label& label() const { return label_; }
  const Topology& topology() const { return topo_; }

  // Results (the observers', see sim/observer.h).
  TimeNs now() const { return now_; }
  uint64_t events() const { return events_; }
  const MetricsObserver& metrics() const { return obs_->metrics; }
  std::string trace_digest() const { return obs_->trace.digest(); }
  uint64_t completed_requests() const { return metrics().completed_requests(); }
  const LatencyHistogram& latency() const { return metrics().latency(); }
  uint64_t messages_sent() const { return metrics().messages_sent(); }
  const std::vector<uint64_t>& messages_by_type() const { return metrics().messages_by_type(); }
  uint64_t messages_delivered() const { return metrics().messages_delivered(); }
  uint64_t messages_lost() const { return metrics().messages_lost(); }
  uint64_t wan_bytes() const { return metrics().wan_bytes(); }
  uint64_t total_bytes() const { return metrics().total_bytes(); }
  uint64_t view_changes() const { return metrics().view_changes(); }
  uint64_t state_transfers() const { return metrics().state_transfers(); }
  const std::vector<IntervalSample>& samples() const { return metrics().samples(); }
  using ClusterStats = geopbft::ClusterStats;
  const std::vector<ClusterStats>& cluster_stats() const { return metrics().cluster_stats(); }
  // Safety: divergent executions, results that differ from what a client accepted, and honest
  // replicas choosing different roles for the same round.
  uint64_t safety_violations() const { return obs_->safety.violations(); }
  const std::string& first_violation() const { return obs_->safety.first_violation(); }
  uint64_t reply_violations() const { return obs_->safety.reply_violations(); }
  uint64_t role_disagreements() const { return obs_->safety.role_disagreements(); }
  using Peak = BoundsObserver::Peak;
  const Peak& peak_log() const { return obs_->bounds.peak_log(); }
  const Peak& peak_state() const { return obs_->bounds.peak_state(); }
  uint64_t bound_violations() const { return obs_->bounds.violations(); }
  const std::string& first_bound_violation() const { return obs_->bounds.first_violation(); }
  bool stalled() const { return obs_->stall.stalled(); }
  const std::string& stall_report() const { return obs_->stall.report(); }
  uint32_t num_replicas() const { return static_cast<uint32_t>(replicas_.size()); }
  uint32_t faults() const { return topo_.f; }
  uint64_t inbox_dropped() const { return inbox_dropped_; }

  struct ReplicaView {
    uint32_t cluster;
    NodeId id;
    std::string region;
    std::string behaviour;
    std::string role;
    std::string score;  // empty without reputation
    uint64_t view;
    uint64_t executed_seq;
    uint64_t role_changes;
    uint64_t evictions;  // times it left the committee with a score below the eviction threshold
    const ReplicaStats* stats;
  };
  ReplicaView replica(uint32_t i) const;
  // Direct access for tests.
  const Replica& replica_state(uint32_t i) const { return *replicas_[i].sm; }
  const std::string& cluster_region(uint32_t c) const { return topo_.region_names[c * topo_.per_cluster]; }

  // Reputation (empty / zero without it). One row of reputation.csv per replica per interval.
  using ReputationRow = ReputationObserver::Row;
  bool reputation() const { return topo_.reputation; }
  const std::vector<ReputationRow>& reputation_rows() const { return obs_->reputation.rows(); }
  using RunEvent = geopbft::RunEvent;
  const std::vector<RunEvent>& run_events() const { return obs_->events.log().events(); }
  double byzantine_in_committee_s() const { return obs_->reputation.byzantine_in_committee_s(); }
  uint64_t representative_changes() const;
  // Reputation's defence, as the most advanced honest replica committed it: the replicas barred by
  // committed proofs (with the round), and the leaders deposed by committed complaints.
  std::vector<Barred> barred() const;
  uint64_t depositions() const;

 private:
  // 24 bytes (with the queue's 8-byte key, 32 per entry, two to a cache line): split buckets move
  // events, so their size is traffic. The message and the timer id share their word: an event
  // carries one or the other (by its kind). At 40 bytes an entry, the queue was an eighth of a
  // default run's peak memory, and its moves the most missed loads of the event loop.
  struct Event {
    EventKind kind = EventKind::kDeliver;
    // Which of the node's hosts: 1 for a TWIN's instance B (kDelayedSend: of the source), else 0.
    uint8_t instance = 0;
    NodeId target = 0;
    NodeId source = 0;
    // kTimer: the timer's generation (32 bits: a stale event would need 2^32 re-arms of one node's
    // timers while it waits); kCpuDone, kDelayedSend: the host's crash epoch.
    uint32_t generation = 0;

    static bool CarriesMessage(EventKind k) { return k == EventKind::kDeliver || k == EventKind::kDelayedSend; }
    Event() : timer_id_(0) {}  // (a kDeliver without a message: a zero word)
    // `timer_id`: kTimer's timer, kFault's transition; `msg`: kDeliver's and kDelayedSend's (the
    // other is ignored).
    Event(EventKind k, uint8_t inst, NodeId to, NodeId from, uint32_t gen, uint64_t timer_id, MessagePtr msg)
        : kind(k), instance(inst), target(to), source(from), generation(gen) {
      if (CarriesMessage(k)) {
        new (&msg_) MessagePtr(std::move(msg));
      } else {
        timer_id_ = timer_id;
      }
    }
    // (The word moves as it is, whichever it holds, and the source is left holding nothing: a null
    // message is a zero word. The queue moves every event a few times, and a branch on its kind
    // there cost more instructions than the smaller event saved.)
    Event(Event&& o) noexcept
        : kind(o.kind), instance(o.instance), target(o.target), source(o.source), generation(o.generation) {
      static_assert(sizeof(MessagePtr) == sizeof(uint64_t));
      timer_id_ = o.timer_id_;
      o.timer_id_ = 0;
    }
    Event& operator=(Event&& o) noexcept {
      if (this != &o) {
        this->~Event();
        new (this) Event(std::move(o));
      }
      return *this;
    }
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    ~Event() {
      if (CarriesMessage(kind)) msg_.~MessagePtr();
    }
    uint64_t timer_id() const { return CarriesMessage(kind) ? 0 : timer_id_; }
    const Message* msg() const { return CarriesMessage(kind) ? msg_.get() : nullptr; }
    const MessagePtr& msg_ptr() const { return msg_; }  // (kDeliver, kDelayedSend only)

   private:
    union {
      uint64_t timer_id_;
      MessagePtr msg_;
    };
  };
  static_assert(sizeof(void*) != 8 || sizeof(Event) <= 24, "events are moved by the queue: keep them small");
  // Timers of one node: the generation of each pending id; a fired event whose generation no
  // longer matches was cancelled or replaced.
  struct Timers {
    absl::flat_hash_map<uint64_t, uint32_t> pending;
    uint32_t next_generation = 0;
  };
  struct Queued {
    Input in;
    TimeNs arrived = 0;  // its authentication may start then (cpu.cores > 1)
  };
  struct ReplicaHost {
    // What every delivery reads or writes comes first, so that it shares the first cache lines
    // of the record: at 1,000 replicas the hosts do not stay in cache, and each extra line a
    // delivery touches is a miss.
    std::unique_ptr<Replica> sm;
    bool crashed = false;
    bool busy = false;               // handling an input; a kCpuDone event ends it
    bool drop_out_of_order = false;  // protocol.pbft.drop_out_of_order: ask sm before queueing
    // Busy until then with an input that had no effects, and nothing queued: no event marks the end
    // unless another input arrives before it (half the events of a run would otherwise be these).
    TimeNs busy_until = 0;
    uint64_t inbox_bytes = 0;  // wire bytes of the messages waiting in `inbox`
    uint64_t epoch = 0;        // bumped by a crash: work started before it is void
    std::deque<Queued> inbox;  // inputs waiting for the CPU
    ReplicaStats stats;
    const std::vector<NodeId>* group = nullptr;  // where kToGroup goes: the flat group or the cluster
    Rng rng{0};
    double speed = 1;
    uint32_t cluster = 0;
    TimeNs cpu_done_at = 0;  // ... at this time (stall reports)
    double base_speed = 1;
    Effects fx;
    Timers timers;
    std::vector<TimeNs> workers;                // cpu.cores > 1: when each worker core is free
    std::vector<Execution> history;             // what it executed, in order (tests only)
    std::vector<ByzantineBehaviour> byzantine;  // empty for an honest replica
  };
  struct ClientHost {
    std::unique_ptr<Client> sm;
    Rng rng{0};
    uint32_t cluster = 0;
    bool idle = false;  // in workload.idle_clusters: sends nothing
    Effects fx;
    Timers timers;
  };
  // What the run loop needs of the scenario, read once at set-up.
  struct RunOptions {
    TimeNs end = 0;
    TimeNs interval = 0;         // metrics sample period
    uint64_t inbox_limit = 0;    // bytes; 0 = unbounded
    bool open_loop = false;      // clients draw arrivals ...
    double arrival_mean_ms = 0;  // ... this far apart on average
    bool fixed_count = false;    // the run ends when every client is done
  };
  // The observers of the run, in the order they hear of things (events before reputation: a
  // Byzantine behaviour is noted before the role changes of the same sample).
  struct Observers {
    Observers(std::FILE* trace_sink, const Topology& topo, uint32_t honest, TimeNs stall_after);
    TraceObserver trace;
    EventsObserver events;
    MetricsObserver metrics;
    SafetyObserver safety;
    ReputationObserver reputation;
    BoundsObserver bounds;
    StallObserver stall;
    std::unique_ptr<SentLogObserver> sent_log;
    ObserverSet all;
  };

  bool IsClient(NodeId n) const { return n >= replicas_.size(); }
  // The host of replica `r`'s instance `inst` (1 only for a TWIN: its instance B).
  ReplicaHost& Host(NodeId r, uint8_t inst) { return inst == 0 ? replicas_[r] : twins_[twin_index_[r]].host; }
  // How many machines run replica `r`: 2 for a TWIN, else 1.
  uint8_t Instances(NodeId r) const { return TwinOf(r) ? 2 : 1; }
  void Schedule(TimeNs at, Event ev) { queue_.Push(at, std::move(ev)); }
  void Dispatch(Event& ev);
  void Deliver(NodeId to, uint8_t inst, const MessagePtr& m);
  void OnReplicaInput(uint32_t r, uint8_t inst, Input in, uint32_t bytes);
  void ProcessInbox(uint32_t r, uint8_t inst);
  bool Handle(uint32_t r, uint8_t inst, const Input& in, TimeNs arrived);
  TimeNs CpuTime(ReplicaHost& h, uint32_t bytes, TimeNs arrived);
  void ApplyReplicaEffects(uint32_t r, uint8_t inst);
  void StepClient(uint32_t c, const Input& in);
  void ApplyClientEffects(uint32_t c);
  void ApplyTimers(NodeId node, uint8_t inst, Timers& timers, const std::vector<TimerOp>& ops);
  // Hands `m` from `from` (its instance `from_inst`) to the network for `to`: to the instance(s) of
  // `to` that `from` reaches, when twins are about.
  void Transmit(NodeId from, uint8_t from_inst, NodeId to, const MessagePtr& m, Rng& rng);
  void TransmitAmongTwins(NodeId from, uint8_t from_inst, NodeId to, const MessagePtr& m, Rng& rng);
  void Send(NodeId from, uint8_t from_inst, NodeId to, uint8_t to_inst, const MessagePtr& m, Rng& rng, bool blocked);
  const ByzantineBehaviour* TwinOf(NodeId node) const {
    return IsClient(node) || twin_index_.empty() || twin_index_[node] < 0 ? nullptr
                                                                          : twins_[twin_index_[node]].behaviour;
  }
  void Sample();
  std::vector<ReplicaAtSample> ReplicasNow() const;
  void ScheduleNextArrival(uint32_t c);
  void ApplyFault(const FaultSchedule::Transition& t);
  void OnTimerEvent(const Event& ev);
  void BuildReplicas(const scenario::Scenario& scenario);
  void BuildTwins(const scenario::Scenario& scenario);
  std::unique_ptr<Replica> MakeReplica(const scenario::Scenario& scenario, NodeId r) const;
  void BuildClients(const scenario::Scenario& scenario);
  int MostAdvanced() const;  // the honest, running replica furthest in the global order (-1: none)

  Label label_;
  Topology topo_;
  RunOptions opts_;
  KeyRing keys_;
  CpuModel cpu_;
  std::unique_ptr<Network> network_;
  std::unique_ptr<FaultSchedule> faults_;
  EventQueue<Event> queue_;
  std::vector<ReplicaHost> replicas_;
  // TWIN replicas' instance B (instance A is the replica's own host), and where each replica's is.
  struct Twin {
    ReplicaHost host;
    const ByzantineBehaviour* behaviour;  // the replica's TWIN entry: when it splits, and its sides
  };
  std::vector<Twin> twins_;
  std::vector<int32_t> twin_index_;  // per replica: its entry in twins_, or -1 (empty: no twins)
  std::vector<ClientHost> clients_;
  std::unique_ptr<Observers> obs_;
  bool record_executions_ = false;
  TimeNs now_ = 0;
  TimeNs last_sample_ = 0;
  uint64_t events_ = 0;
  bool stop_ = false;
  bool interrupted_ = false;  // Interrupt(): the run was abandoned, its figures are partial
  uint64_t inbox_dropped_ = 0;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_SIMULATION_H_
