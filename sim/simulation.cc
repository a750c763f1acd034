#include "sim/simulation.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/distribution.h"
#include "sim/region_catalog.h"
#include "sim/scenario_loader.h"

namespace geopbft {
namespace {

double NsToMs(TimeNs t) { return static_cast<double>(t) / kMillisecond; }

}  // namespace

Simulation::~Simulation() = default;

void Simulation::Run(const std::function<void(double)>& progress) {
  // Clients start at time zero; open-loop clients draw their first arrival.
  for (uint32_t c = 0; c < clients_.size(); ++c) {
    ClientHost& h = clients_[c];
    if (h.idle) continue;
    h.fx.Clear();
    h.sm->Step(0, Input::Start(), h.fx);
    ApplyClientEffects(c);
    if (scenario_.workload().mode() == scenario::Workload::OPEN_LOOP) ScheduleNextArrival(c);
  }
  Schedule(interval_, {EventKind::kSample, 0, 0, 0, 0, nullptr});
  const auto& transitions = faults_->transitions();
  for (uint32_t i = 0; i < transitions.size(); ++i) {
    Schedule(transitions[i].at, {EventKind::kFault, 0, 0, 0, i, nullptr});
  }

  uint64_t next_progress = 1 << 16;
  while (!queue_.empty() && !stop_ && !interrupted_) {
    if (queue_.top_time() > end_) break;
    Event ev = queue_.Pop(&now_);
    ++events_;
    Dispatch(ev);
    if (progress && events_ >= next_progress) {
      next_progress += 1 << 16;
      progress(static_cast<double>(now_) / static_cast<double>(end_));
    }
  }
  if (interrupted_) return;  // nothing more to account: the caller discards the run
  if (!stop_) now_ = end_;
  // The last partial interval, so that timeseries.csv covers the whole run.
  if (samples_.empty() || last_sample_ < now_) Sample();
  trace_.Finish(now_);
  if (progress) progress(1.0);
}

void Simulation::OnTimerEvent(const Event& ev) {
  bool client = IsClient(ev.target);
  Timers& timers = client ? clients_[ev.target - replicas_.size()].timers : replicas_[ev.target].timers;
  auto it = timers.pending.find(ev.timer_id);
  if (it == timers.pending.end() || it->second != ev.generation) return;  // cancelled/replaced
  if (client) {
    timers.pending.erase(it);
    uint32_t c = ev.target - static_cast<uint32_t>(replicas_.size());
    clients_[c].fx.Clear();
    clients_[c].sm->Step(now_, Input::Timer(ev.timer_id), clients_[c].fx);
    return ApplyClientEffects(c);
  }
  // Still pending until the replica takes it: the step on its CPU now (or queued before it) may
  // replace or cancel it, and then it must not fire (found by the swarm, seed 109 of
  // --protocol=pbft: a view-change timer re-armed by the step that joined a view change fired
  // anyway, 1 ms later, and the new primary abandoned its view).
  return OnReplicaInput(ev.target, Input::Timer(ev.timer_id, ev.generation), 0);
}

// Every event goes to the trace (its digest is the run's fingerprint), whether or not it is written.
void Simulation::TraceEvent(const Event& ev) {
  TraceRecord rec;
  rec.time = now_;
  rec.kind = static_cast<uint32_t>(ev.kind);
  rec.target = ev.target;
  rec.source = ev.source;
  if (ev.kind == EventKind::kDeliver) {
    rec.msg_type = static_cast<uint32_t>(ev.msg->type);
    rec.view = ev.msg->view;
    rec.seq = ev.msg->seq;
    rec.extra = ev.msg->wire_size;
  } else if (ev.kind == EventKind::kTimer || ev.kind == EventKind::kFault) {
    rec.extra = ev.timer_id;
  }
  trace_.Record(rec, [&]() -> std::string_view {
    // (Only when the trace is written.)
    rec.client = ev.kind != EventKind::kSample && ev.kind != EventKind::kFault && ev.kind != EventKind::kDelayedSend &&
                 IsClient(ev.target);
    switch (ev.kind) {
      case EventKind::kDeliver:
        return MsgTypeName(ev.msg->type);
      case EventKind::kTimer:
        return "timer";
      case EventKind::kCpuDone:
        return "cpu-done";
      case EventKind::kSubmit:
        return "submit";
      case EventKind::kSample:
        return "sample";
      case EventKind::kFault:
        return "fault";
      case EventKind::kDelayedSend:
        return "delayed-send";
    }
    return "";
  });
}

void Simulation::Dispatch(Event& ev) {
  TraceEvent(ev);
  switch (ev.kind) {
    case EventKind::kDeliver:
      return Deliver(ev.target, ev.msg);
    case EventKind::kTimer:
      return OnTimerEvent(ev);
    case EventKind::kCpuDone: {
      ReplicaHost& h = replicas_[ev.target];
      if (ev.generation != static_cast<uint32_t>(h.epoch)) return;  // started before a crash: void
      h.busy = false;
      ApplyReplicaEffects(ev.target);
      return ProcessInbox(ev.target);
    }
    case EventKind::kSubmit: {
      uint32_t c = ev.target - static_cast<uint32_t>(replicas_.size());
      clients_[c].fx.Clear();
      clients_[c].sm->Step(now_, Input::Submit(), clients_[c].fx);
      ApplyClientEffects(c);
      return ScheduleNextArrival(c);
    }
    case EventKind::kSample:
      Sample();
      if (!stop_) Schedule(now_ + interval_, {EventKind::kSample, 0, 0, 0, 0, nullptr});
      return;
    case EventKind::kFault:
      return ApplyFault(faults_->transitions()[ev.timer_id]);
    case EventKind::kDelayedSend: {
      ReplicaHost& h = replicas_[ev.source];
      if (h.crashed || ev.generation != static_cast<uint32_t>(h.epoch)) return;
      if (ev.target != kToGroup) return Transmit(ev.source, ev.target, ev.msg, h.rng);
      for (NodeId member : *h.group) {
        if (member != ev.source) Transmit(ev.source, member, ev.msg, h.rng);
      }
      return;
    }
  }
}

// A Byzantine behaviour turning on: at its start time, or (for one that waits for a round) at the
// first sample that finds it on.
void Simulation::NoteByzantineStarts() {
  for (uint32_t r = 0; r < replicas_.size(); ++r) {
    ReplicaHost& h = replicas_[r];
    for (size_t b = 0; b < h.byzantine.size(); ++b) {
      if (!h.byzantine[b].Active(now_, h.sm->rounds_executed()) || !byzantine_noted_.insert({r, b}).second) continue;
      const TimeNs at = h.byzantine[b].starts_at();
      run_events_.push_back({static_cast<double>(at >= 0 ? at : now_) / kSecond, "byzantine", r,
                             static_cast<int64_t>(h.cluster), h.byzantine[b].Name()});
    }
  }
}

void Simulation::NoteEvent(std::string kind, int64_t replica, int64_t cluster, std::string detail) {
  run_events_.push_back({static_cast<double>(now_) / kSecond, std::move(kind), replica, cluster, std::move(detail)});
}

void Simulation::ApplyFault(const FaultSchedule::Transition& t) {
  faults_->Apply(t);
  const scenario::Fault& f = faults_->fault(t.fault);
  {
    std::string detail = scenario::Fault::Kind_Name(f.kind());
    if (f.replicas_size() > 0) absl::StrAppend(&detail, " replicas ", absl::StrJoin(f.replicas(), " "));
    if (f.regions_size() > 0) absl::StrAppend(&detail, " regions ", absl::StrJoin(f.regions(), " "));
    NoteEvent(t.start ? "fault_start" : "fault_end", f.replicas_size() == 1 ? f.replicas(0) : -1, -1, detail);
  }
  switch (f.kind()) {
    case scenario::Fault::CRASH:
      for (uint32_t r : f.replicas()) {
        ReplicaHost& h = replicas_[r];
        if (t.start && !h.crashed) {
          // Queued inputs, pending timers and work in progress are lost; the state is kept (as on
          // stable storage) and the replica catches up when it recovers.
          h.crashed = true;
          ++h.epoch;
          h.busy = false;
          h.busy_until = 0;
          h.inbox.clear();
          h.inbox_bytes = 0;
          h.timers.pending.clear();
          h.fx.Clear();
        } else if (!t.start && h.crashed) {
          h.crashed = false;
          OnReplicaInput(r, Input::Start(), 0);
        }
      }
      return;
    case scenario::Fault::SLOW:
      // The speed of each replica is that of the most recently started active SLOW fault on it.
      for (uint32_t r : f.replicas()) {
        ReplicaHost& h = replicas_[r];
        h.speed = h.base_speed;
        for (int i = 0; i < scenario_.faults_size(); ++i) {
          const scenario::Fault& g = scenario_.faults(i);
          if (faults_->active(i) && g.kind() == scenario::Fault::SLOW &&
              std::count(g.replicas().begin(), g.replicas().end(), r) > 0) {
            h.speed = g.speed();
          }
        }
      }
      return;
    case scenario::Fault::PARTITION:
    case scenario::Fault::LINK:
      return;  // consulted by Transmit
  }
}

void Simulation::ScheduleNextArrival(uint32_t c) {
  double mean_ms = 1e3 / scenario_.workload().rate_per_client_tps();
  TimeNs gap = std::max<TimeNs>(1, MsToNs(clients_[c].rng.Exponential(mean_ms)));
  Schedule(now_ + gap, {EventKind::kSubmit, static_cast<NodeId>(replicas_.size() + c), 0, 0, 0, nullptr});
}

void Simulation::Deliver(NodeId to, const MessagePtr& m) {
  ++messages_delivered_;
  if (IsClient(to)) {
    uint32_t c = to - static_cast<uint32_t>(replicas_.size());
    clients_[c].fx.Clear();
    clients_[c].sm->Step(now_, Input::Deliver(m), clients_[c].fx);
    return ApplyClientEffects(c);
  }
  ReplicaHost& h = replicas_[to];
  if (h.crashed) return;  // lost with the crashed host
  ReplicaStats& st = h.stats;
  ++st.messages_received;
  st.bytes_received += m->wire_size;
  if (h.legacy_drops && h.sm->LegacyDropOnArrival(*m)) return;
  if (inbox_limit_ > 0 && (h.busy || now_ < h.busy_until) && h.inbox_bytes + m->wire_size > inbox_limit_) {
    ++st.inbox_dropped;  // the receive buffer is full: the replica is too slow for its load
    ++inbox_dropped_;
    return;
  }
  h.inbox_bytes += m->wire_size;
  OnReplicaInput(to, Input::Deliver(m), m->wire_size);
}

void Simulation::OnReplicaInput(uint32_t r, Input in, uint32_t bytes) {
  ReplicaHost& h = replicas_[r];
  if (h.crashed) return;
  if (!h.busy && h.inbox.empty() && now_ >= h.busy_until) {
    // An idle CPU takes it at once (what ProcessInbox would do, without the queue).
    Handle(r, in);
    return ProcessInbox(r);
  }
  h.inbox.push_back(std::move(in));
  if (h.busy) return;
  if (now_ < h.busy_until) {
    // The CPU is still on an input that had no effects: this one waits for it to finish.
    h.busy = true;
    h.cpu_done_at = h.busy_until;
    Schedule(h.busy_until, {EventKind::kCpuDone, r, r, static_cast<uint32_t>(h.epoch), 0, nullptr});
    return;
  }
  ProcessInbox(r);
}

// Runs queued inputs through the state machine, one at a time. An input's effects take effect when
// the CPU finishes handling it; with zero costs that is immediately.
void Simulation::ProcessInbox(uint32_t r) {
  ReplicaHost& h = replicas_[r];
  while (!h.busy && !h.inbox.empty()) {
    Input in = std::move(h.inbox.front());
    h.inbox.pop_front();
    if (!Handle(r, in)) return;
  }
}

// One input on the replica's CPU. Returns false when the CPU stays busy with it (or after it).
bool Simulation::Handle(uint32_t r, const Input& in) {
  ReplicaHost& h = replicas_[r];
  if (in.kind == Input::Kind::kTimer) {
    auto it = h.timers.pending.find(in.timer);
    if (it == h.timers.pending.end() || it->second != in.generation) return true;  // replaced or cancelled
    h.timers.pending.erase(it);
  }
  if (in.msg) h.inbox_bytes -= in.msg->wire_size;
  uint32_t bytes = in.msg ? in.msg->wire_size : 0;
  // h.fx is empty: ApplyReplicaEffects clears it after every step, and a crash discards it.
  h.sm->Step(now_, in, h.fx);
  if (!h.byzantine.empty()) {
    std::vector<DelayedSend> delayed;
    for (const ByzantineBehaviour& b : h.byzantine)
      b.Apply(now_, h.sm->rounds_executed(), Identity(&keys_, r), *h.group, h.fx, delayed);
    for (DelayedSend& d : delayed) {
      Schedule(d.at, {EventKind::kDelayedSend, d.send.to, r, static_cast<uint32_t>(h.epoch), 0, std::move(d.send.msg)});
    }
  }
  TimeNs cost = cpu_.Cost(bytes, h.fx.ops, h.speed);
  h.stats.cpu_busy += cost;
  if (cost > 0) {
    if (h.fx.Quiet() && h.inbox.empty()) {
      ApplyReplicaEffects(r);  // counts rejections; there is nothing to wait for
      h.busy_until = now_ + cost;
      return false;
    }
    h.busy = true;
    h.cpu_done_at = now_ + cost;
    Schedule(now_ + cost, {EventKind::kCpuDone, r, r, static_cast<uint32_t>(h.epoch), 0, nullptr});
    return false;
  }
  ApplyReplicaEffects(r);
  return true;
}

void Simulation::ApplyReplicaEffects(uint32_t r) {
  ReplicaHost& h = replicas_[r];
  Effects& fx = h.fx;
  h.stats.rejected += fx.rejected;
  for (const Outgoing& o : fx.sends) {
    if (o.msg->type == MsgType::kPrepare || o.msg->type == MsgType::kCommit) ++h.stats.votes_sent;
    if (sent_log_ != nullptr && (o.msg->type == MsgType::kPrePrepare || o.msg->type == MsgType::kCommit ||
                                 o.msg->type == MsgType::kCheckpoint)) {
      std::fprintf(sent_log_, "%lld %lld %s\n", static_cast<long long>(now_),
                   o.to == kToGroup ? -1LL : static_cast<long long>(o.to),
                   absl::BytesToHexString(EncodeMessage(*o.msg)).c_str());
    }
    if (o.to == kToGroup) {
      for (NodeId member : *h.group) {
        if (member != r) Transmit(r, member, o.msg, h.rng);
      }
    } else {
      Transmit(r, o.to, o.msg, h.rng);
    }
  }
  ApplyTimers(r, h.timers, fx.timers);
  if (fx.views_installed > 0 && installed_views_.insert({topo_.geo ? h.cluster : 0, h.sm->view()}).second) {
    ++view_changes_;
    ++interval_view_changes_;
    ++cluster_stats_[h.cluster].view_changes;
    NoteEvent("view_change", r, topo_.geo ? h.cluster : -1, absl::StrCat("view ", h.sm->view()));
  }
  if (fx.state_transferred_to > 0) ++state_transfers_;
  if (h.byzantine.empty()) {
    for (const auto& [round, fingerprint] : fx.roles_chosen) {
      auto [it, first] = roles_by_round_.try_emplace(round, fingerprint);
      if (!first && it->second != fingerprint && role_disagreements_++ == 0) {
        first_role_disagreement_ = absl::StrFormat("replica %d chose other roles after round %d at %.6f s", r, round,
                                                   static_cast<double>(now_) / kSecond);
      }
      while (roles_by_round_.size() > 4096) roles_by_round_.erase(roles_by_round_.begin());
    }
  }
  if (h.byzantine.empty()) {
    for (const RequestResult& x : fx.results) replies_.OnExecuted(r, x, now_);
  }
  for (const Execution& ex : fx.executed) {
    if (h.byzantine.empty()) agreement_.OnExecuted(r, ex, now_);
    if (record_executions_) h.history.push_back(ex);
    ++h.stats.executed_batches;
    h.stats.executed_requests += ex.requests;
    ++interval_executed_;
    last_progress_ = now_;
  }
  fx.Clear();
}

void Simulation::ApplyClientEffects(uint32_t c) {
  ClientHost& h = clients_[c];
  NodeId self = static_cast<NodeId>(replicas_.size() + c);
  for (const Outgoing& o : h.fx.sends) Transmit(self, o.to, o.msg, h.rng);
  ApplyTimers(self, h.timers, h.fx.timers);
  for (const Completion& done : h.fx.completions) {
    replies_.OnAccepted(self, done);
    ++completed_;
    ++cluster_stats_[h.cluster].completed;
    ++interval_completed_;
    latency_total_.Record(done.completed - done.submitted);
    latency_interval_.Record(done.completed - done.submitted);
  }
  bool fixed = scenario_.workload().mode() == scenario::Workload::FIXED_COUNT;
  if (fixed && !h.fx.completions.empty() && h.sm->done() &&
      std::all_of(clients_.begin(), clients_.end(), [](const ClientHost& x) { return x.idle || x.sm->done(); })) {
    stop_ = true;  // every request answered: the experiment is over
  }
  h.fx.Clear();
}

void Simulation::ApplyTimers(NodeId node, Timers& timers, const std::vector<TimerOp>& ops) {
  for (const TimerOp& op : ops) {
    if (op.cancel) {
      timers.pending.erase(op.id);
      continue;
    }
    const uint32_t gen = ++timers.next_generation;
    timers.pending[op.id] = gen;
    Schedule(std::max(op.at, now_), {EventKind::kTimer, node, node, gen, op.id, nullptr});
  }
}

void Simulation::Transmit(NodeId from, NodeId to, const MessagePtr& m, Rng& rng) {
  Network::Transit t = network_->Send(now_, from, to, m->wire_size, rng, faults_->LinkFault(from, to));
  t.lost = t.lost || faults_->Blocked(from, to);
  ++messages_sent_;
  ++messages_by_type_[static_cast<size_t>(m->type) % messages_by_type_.size()];
  ++interval_messages_;
  total_bytes_ += m->wire_size;
  if (t.wan) {
    cluster_stats_[IsClient(from) ? clients_[from - replicas_.size()].cluster : replicas_[from].cluster].wan_bytes +=
        m->wire_size;
    wan_bytes_ += m->wire_size;
    interval_wan_ += m->wire_size;
  }
  if (!IsClient(from)) {
    ++replicas_[from].stats.messages_sent;
    replicas_[from].stats.bytes_sent += m->wire_size;
  }
  if (t.lost) {
    ++messages_lost_;
    return;
  }
  Schedule(t.arrival, {EventKind::kDeliver, to, from, 0, 0, m});
}

void Simulation::Sample() {
  IntervalSample s;
  s.time_s = static_cast<double>(now_) / kSecond;
  NoteByzantineStarts();
  double span_s = static_cast<double>(now_ - last_sample_) / kSecond;
  last_sample_ = now_;
  s.completed = interval_completed_;
  s.throughput_tps = span_s > 0 ? static_cast<double>(interval_completed_) / span_s : 0;
  s.latency_p50_ms = NsToMs(latency_interval_.Quantile(0.5));
  s.latency_p99_ms = NsToMs(latency_interval_.Quantile(0.99));
  s.executed_batches = interval_executed_;
  s.messages = interval_messages_;
  s.wan_bytes = interval_wan_;
  s.view_changes = interval_view_changes_;
  interval_view_changes_ = 0;
  for (const ClientHost& c : clients_) s.outstanding += c.sm->outstanding();
  samples_.push_back(s);
  if (topo_.reputation) {
    SampleReputation(span_s);
  } else {
    // Without reputation every replica votes: Byzantine ones are on the committee while active.
    for (ReplicaHost& h : replicas_) {
      if (!h.crashed && std::any_of(h.byzantine.begin(), h.byzantine.end(), [&](const ByzantineBehaviour& b) {
            return b.Active(now_, h.sm->rounds_executed());
          })) {
        byzantine_in_committee_s_ += span_s;
      }
    }
  }
  interval_completed_ = interval_executed_ = interval_messages_ = interval_wan_ = 0;
  latency_interval_.Clear();
  for (uint32_t r = 0; r < replicas_.size(); ++r) {
    const ReplicaHost& h = replicas_[r];
    if (!h.byzantine.empty()) continue;
    auto note = [&](Peak& p, size_t v) {
      if (v > p.value) p = {v, r, s.time_s};
    };
    note(peak_log_, h.sm->log_size());
    note(peak_state_, h.sm->state_entries());
    if (h.crashed) continue;
    if (std::string bound = h.sm->BoundViolation(); !bound.empty() && bound_violations_++ == 0) {
      first_bound_violation_ = absl::StrFormat("at %.3f s replica %d: %s", s.time_s, r, bound);
    }
  }
  if (s.outstanding == 0) last_progress_ = now_;
  DetectStall();
}

void Simulation::DetectStall() {
  if (stalled_ || now_ - last_progress_ < stall_after_) return;
  stalled_ = true;
  stop_ = true;
  std::string& r = stall_report_;
  absl::StrAppendFormat(&r,
                        "stall detected at %.3f s: no replica executed anything for %.3f s while "
                        "client requests were outstanding\n\n",
                        static_cast<double>(now_) / kSecond, static_cast<double>(now_ - last_progress_) / kSecond);
  for (uint32_t i = 0; i < replicas_.size(); ++i) {
    const ReplicaHost& h = replicas_[i];
    // (A CPU busy far past now is a replica buried in work: its inbox waits for it.)
    const TimeNs busy_until = std::max(h.busy_until, h.busy ? h.cpu_done_at : 0);
    absl::StrAppendFormat(
        &r, "replica %d (cluster %d, %s)%s: %s; inbox %d%s\n", i, h.cluster, topo_.region_names[i],
        h.crashed ? " CRASHED" : "", h.sm->Describe(), h.inbox.size(),
        busy_until > now_ ? absl::StrFormat(", CPU busy until %.3f s", static_cast<double>(busy_until) / kSecond) : "");
  }
  for (uint32_t c = 0; c < clients_.size(); ++c) {
    absl::StrAppendFormat(&r, "client %d (%s): %d requests outstanding, %d completed\n", replicas_.size() + c,
                          topo_.region_names[replicas_.size() + c], clients_[c].sm->outstanding(),
                          clients_[c].sm->completed());
  }
}

int Simulation::Observer() const {
  int best = -1;
  uint64_t furthest = 0;
  for (uint32_t i = 0; i < replicas_.size(); ++i) {
    const ReplicaHost& h = replicas_[i];
    if (!h.byzantine.empty() || h.crashed) continue;
    if (best < 0 || h.sm->last_executed() > furthest) best = static_cast<int>(i), furthest = h.sm->last_executed();
  }
  return best;
}

}  // namespace geopbft
