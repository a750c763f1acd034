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

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "protocol/client.h"
#include "protocol/crypto.h"
#include "protocol/effects.h"
#include "protocol/replica.h"
#include "protocol/reputation.h"
#include "scenarios/scenario.pb.h"
#include "sim/agreement_checker.h"
#include "sim/byzantine.h"
#include "sim/cpu_model.h"
#include "sim/event_queue.h"
#include "sim/fault_schedule.h"
#include "sim/latency_histogram.h"
#include "sim/network.h"
#include "sim/reply_checker.h"
#include "sim/rng.h"
#include "sim/topology.h"
#include "sim/trace.h"

namespace geopbft {

// One row of timeseries.csv.
struct IntervalSample {
  double time_s = 0;
  double throughput_tps = 0;
  double latency_p50_ms = 0;
  double latency_p99_ms = 0;
  uint64_t completed = 0;
  uint64_t executed_batches = 0;
  uint64_t messages = 0;
  uint64_t wan_bytes = 0;
  uint64_t view_changes = 0;
  uint64_t outstanding = 0;
};

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
  void RecordSentMessages(std::FILE* sink) { sent_log_ = sink; }

  // Tests: keep every replica's executed (position, digest) sequence.
  void RecordExecutions() { record_executions_ = true; }
  const std::vector<Execution>& executions(uint32_t r) const { return replicas_[r].history; }

  // Results.
  const scenario::Scenario& scenario() const { return scenario_; }
  TimeNs now() const { return now_; }
  uint64_t events() const { return events_; }
  std::string trace_digest() const { return trace_.DigestHex(); }
  uint64_t completed_requests() const { return completed_; }
  const LatencyHistogram& latency() const { return latency_total_; }
  uint64_t messages_sent() const { return messages_sent_; }
  // Messages sent by type (index: the envelope's body case), for the message mix.
  const std::vector<uint64_t>& messages_by_type() const { return messages_by_type_; }
  uint64_t messages_delivered() const { return messages_delivered_; }
  uint64_t messages_lost() const { return messages_lost_; }
  uint64_t wan_bytes() const { return wan_bytes_; }
  uint64_t total_bytes() const { return total_bytes_; }
  uint64_t view_changes() const { return view_changes_; }
  uint64_t state_transfers() const { return state_transfers_; }
  // Safety: divergent executions, results that differ from what a client accepted, and honest
  // replicas choosing different roles for the same round.
  uint64_t safety_violations() const { return agreement_.violations() + replies_.violations() + role_disagreements_; }
  const std::string& first_violation() const {
    if (agreement_.violations() > 0) return agreement_.first_violation();
    return replies_.violations() > 0 ? replies_.first_violation() : first_role_disagreement_;
  }
  uint64_t reply_violations() const { return replies_.violations(); }
  // Footprint of the honest replicas' protocol state, sampled every metrics interval: the largest
  // log (slots / rounds kept) and the largest state_entries() seen, with who and when.
  struct Peak {
    size_t value = 0;
    NodeId replica = 0;
    double time_s = 0;
  };
  const Peak& peak_log() const { return peak_log_; }
  const Peak& peak_state() const { return peak_state_; }
  // Design bounds (Replica::BoundViolation) broken by an honest replica at a metrics sample: how
  // many samples, and the first one ("at T s replica R: what").
  uint64_t bound_violations() const { return bound_violations_; }
  const std::string& first_bound_violation() const { return first_bound_violation_; }
  uint64_t role_disagreements() const { return role_disagreements_; }
  bool stalled() const { return stalled_; }
  const std::string& stall_report() const { return stall_report_; }
  const std::vector<IntervalSample>& samples() const { return samples_; }
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

  struct ClusterStats {
    uint64_t completed = 0;     // requests of this cluster's clients answered
    uint64_t view_changes = 0;  // views installed (flat PBFT: counted at the first replica installing it)
    uint64_t wan_bytes = 0;     // sent across regions by this cluster's replicas and clients
  };
  const std::vector<ClusterStats>& cluster_stats() const { return cluster_stats_; }
  const std::string& cluster_region(uint32_t c) const { return topo_.region_names[c * topo_.per_cluster]; }

  // Reputation (empty / zero without it). One row of reputation.csv per replica per interval, from
  // the committed score table of the most advanced honest replica.
  struct ReputationRow {
    double time_s;
    uint32_t cluster;
    NodeId replica;
    double score;
    std::string_view role;  // RoleName, or "crashed"
    uint64_t round;         // rounds the observer had executed
  };
  bool reputation() const { return topo_.reputation; }
  const std::vector<ReputationRow>& reputation_rows() const { return reputation_rows_; }
  // events.csv: what happened when, for plots and readers (they never parse the scenario): fault
  // starts and ends, Byzantine behaviours turning on, view changes, role changes and evictions.
  struct RunEvent {
    double time_s;
    std::string kind;  // fault_start, fault_end, byzantine, view_change, role_change, eviction
    int64_t replica;   // -1: not one replica's (a partition, a cluster's view change)
    int64_t cluster;   // -1: not one cluster's
    std::string detail;
  };
  const std::vector<RunEvent>& run_events() const { return run_events_; }
  double byzantine_in_committee_s() const { return byzantine_in_committee_s_; }
  uint64_t representative_changes() const;
  // Reputation's defence, as the most advanced honest replica committed it: the replicas barred by
  // committed proofs (with the round), and the leaders deposed by committed complaints.
  std::vector<Barred> barred() const;
  uint64_t depositions() const;

 private:
  enum class EventKind : uint8_t { kDeliver, kTimer, kCpuDone, kSubmit, kSample, kFault, kDelayedSend };
  // 32 bytes (with the queue's 8-byte key, 40 per entry): split buckets move events, so their size
  // is traffic.
  struct Event {
    EventKind kind = EventKind::kDeliver;
    NodeId target = 0;
    NodeId source = 0;
    // kTimer: the timer's generation (32 bits: a stale event would need 2^32 re-arms of one node's
    // timers while it waits); kCpuDone, kDelayedSend: the host's crash epoch.
    uint32_t generation = 0;
    uint64_t timer_id = 0;  // kTimer: the timer; kFault: the transition
    MessagePtr msg;
  };
  static_assert(sizeof(void*) != 8 || sizeof(Event) <= 32, "events are moved by the queue: keep them small");
  // Timers of one node: the generation of each pending id; a fired event whose generation no
  // longer matches was cancelled or replaced.
  struct Timers {
    absl::flat_hash_map<uint64_t, uint32_t> pending;
    uint32_t next_generation = 0;
  };
  struct ReplicaHost {
    // What every delivery reads or writes comes first, so that it shares the first cache lines
    // of the record: at 1,000 replicas the hosts do not stay in cache, and each extra line a
    // delivery touches is a miss.
    std::unique_ptr<Replica> sm;
    bool crashed = false;
    bool busy = false;          // handling an input; a kCpuDone event ends it
    bool legacy_drops = false;  // protocol.pbft.drop_out_of_order: ask sm before queueing
    // Busy until then with an input that had no effects, and nothing queued: no event marks the end
    // unless another input arrives before it (half the events of a run would otherwise be these).
    TimeNs busy_until = 0;
    uint64_t inbox_bytes = 0;  // wire bytes of the messages waiting in `inbox`
    uint64_t epoch = 0;        // bumped by a crash: work started before it is void
    std::deque<Input> inbox;   // inputs waiting for the CPU
    ReplicaStats stats;
    const std::vector<NodeId>* group = nullptr;  // where kToGroup goes: the flat group or the cluster
    Rng rng{0};
    double speed = 1;
    uint32_t cluster = 0;
    TimeNs cpu_done_at = 0;  // ... at this time (stall reports)
    double base_speed = 1;
    Effects fx;
    Timers timers;
    std::vector<Execution> history;             // what it executed, in order (tests only)
    std::vector<ByzantineBehaviour> byzantine;  // empty for an honest replica
    // Reputation bookkeeping (from the observer's table): the role last sampled (none while the
    // replica was crashed at that sample; role_sampled false before the first).
    std::optional<Role> role;
    bool role_sampled = false;
    uint64_t role_changes = 0, evictions = 0;
  };
  struct ClientHost {
    std::unique_ptr<Client> sm;
    Rng rng{0};
    uint32_t cluster = 0;
    bool idle = false;  // in workload.idle_clusters: sends nothing
    Effects fx;
    Timers timers;
  };

  bool IsClient(NodeId n) const { return n >= replicas_.size(); }
  void Schedule(TimeNs at, Event ev) { queue_.Push(at, std::move(ev)); }
  void Dispatch(Event& ev);
  void Deliver(NodeId to, const MessagePtr& m);
  void OnReplicaInput(uint32_t r, Input in, uint32_t bytes);
  void ProcessInbox(uint32_t r);
  bool Handle(uint32_t r, const Input& in);
  void ApplyReplicaEffects(uint32_t r);
  void ApplyClientEffects(uint32_t c);
  void ApplyTimers(NodeId node, Timers& timers, const std::vector<TimerOp>& ops);
  void Transmit(NodeId from, NodeId to, const MessagePtr& m, Rng& rng);
  void Sample();
  void DetectStall();
  void ScheduleNextArrival(uint32_t c);
  void ApplyFault(const FaultSchedule::Transition& t);
  void SampleReputation(double span_s);
  void TraceEvent(const Event& ev);
  void OnTimerEvent(const Event& ev);
  void BuildReplicas();
  void BuildClients();
  int Observer() const;  // the honest, running replica furthest in the global order (-1: none)

  scenario::Scenario scenario_;
  Topology topo_;
  KeyRing keys_;
  CpuModel cpu_;
  std::unique_ptr<Network> network_;
  std::unique_ptr<FaultSchedule> faults_;
  Trace trace_;
  EventQueue<Event> queue_;
  std::vector<ReplicaHost> replicas_;
  std::vector<ClientHost> clients_;
  bool record_executions_ = false;
  std::vector<ClusterStats> cluster_stats_;
  AgreementChecker agreement_;
  ReplyChecker replies_;
  Peak peak_log_, peak_state_;
  uint64_t bound_violations_ = 0;
  std::string first_bound_violation_;

  TimeNs now_ = 0;
  TimeNs end_ = 0;
  TimeNs interval_ = 0;
  TimeNs stall_after_ = 0;
  uint64_t events_ = 0;
  bool stop_ = false;
  bool interrupted_ = false;  // Interrupt(): the run was abandoned, its figures are partial

  // Metrics.
  uint64_t completed_ = 0;
  LatencyHistogram latency_total_, latency_interval_;
  uint64_t interval_completed_ = 0, interval_executed_ = 0, interval_messages_ = 0, interval_wan_ = 0;
  uint64_t interval_view_changes_ = 0;
  uint64_t view_changes_ = 0, state_transfers_ = 0;
  absl::btree_set<std::pair<uint32_t, uint64_t>> installed_views_;  // (cluster, view)
  uint64_t messages_sent_ = 0, messages_delivered_ = 0, messages_lost_ = 0;
  std::vector<uint64_t> messages_by_type_ = std::vector<uint64_t>(64, 0);
  uint64_t wan_bytes_ = 0, total_bytes_ = 0;
  std::vector<IntervalSample> samples_;
  TimeNs last_progress_ = 0;
  TimeNs last_sample_ = 0;
  bool stalled_ = false;
  std::string stall_report_;

  // Reputation.
  std::FILE* sent_log_ = nullptr;
  uint64_t inbox_limit_ = 0;  // bytes; 0 = unbounded
  uint64_t inbox_dropped_ = 0;
  std::vector<ReputationRow> reputation_rows_;
  std::vector<RunEvent> run_events_;
  void NoteEvent(std::string kind, int64_t replica, int64_t cluster, std::string detail);
  void NoteByzantineStarts();
  absl::btree_set<std::pair<uint32_t, size_t>> byzantine_noted_;
  double byzantine_in_committee_s_ = 0;
  absl::btree_map<uint64_t, uint64_t> roles_by_round_;  // round -> fingerprint first reported
  uint64_t role_disagreements_ = 0;
  std::string first_role_disagreement_;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_SIMULATION_H_
