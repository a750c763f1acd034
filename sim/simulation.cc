#include "sim/simulation.h"

#include <algorithm>

#include "sim/distribution.h"

namespace geopbft {
Simulation::~Simulation() = default;

void Simulation::Run(const std::function<void(double)>& progress) {
  // Clients start at time zero; open-loop clients draw their first arrival.
  for (uint32_t c = 0; c < clients_.size(); ++c) {
    ClientHost& h = clients_[c];
    if (h.idle) continue;
    StepClient(c, Input::Start());
    if (opts_.open_loop) ScheduleNextArrival(c);
  }
  Schedule(opts_.interval, {EventKind::kSample, 0, 0, 0, 0, 0, nullptr});
  const auto& transitions = faults_->transitions();
  for (uint32_t i = 0; i < transitions.size(); ++i) {
    Schedule(transitions[i].at, {EventKind::kFault, 0, 0, 0, 0, i, nullptr});
  }

  uint64_t next_progress = 1 << 16;
  while (!queue_.empty() && !stop_ && !interrupted_) {
    if (queue_.top_time() > opts_.end) break;
    Event ev = queue_.Pop(&now_);
    ++events_;
    Dispatch(ev);
    if (progress && events_ >= next_progress) {
      next_progress += 1 << 16;
      progress(static_cast<double>(now_) / static_cast<double>(opts_.end));
    }
  }
  if (interrupted_) return;  // nothing more to account: the caller discards the run
  if (!stop_) now_ = opts_.end;
  // The last partial interval, so that timeseries.csv covers the whole run.
  if (samples().empty() || last_sample_ < now_) Sample();
  obs_->all.Finish(now_);
  if (progress) progress(1.0);
}

void Simulation::OnTimerEvent(const Event& ev) {
  bool client = IsClient(ev.target);
  Timers& timers = client ? clients_[ev.target - replicas_.size()].timers : Host(ev.target, ev.instance).timers;
  auto it = timers.pending.find(ev.timer_id());
  if (it == timers.pending.end() || it->second != ev.generation) return;  // cancelled/replaced
  if (client) {
    timers.pending.erase(it);
    return StepClient(ev.target - static_cast<uint32_t>(replicas_.size()), Input::Timer(ev.timer_id()));
  }
  // Still pending until the replica takes it: the step on its CPU now (or queued before it) may
  // replace or cancel it, and then it must not fire (found by the swarm, seed 109 of
  // --protocol=pbft: a view-change timer re-armed by the step that joined a view change fired
  // anyway, 1 ms later, and the new primary abandoned its view).
  return OnReplicaInput(ev.target, ev.instance, Input::Timer(ev.timer_id(), ev.generation), 0);
}

void Simulation::Dispatch(Event& ev) {
  // Every event goes to the trace (its digest is the run's fingerprint), whether or not it is written.
  obs_->all.Event(now_, {ev.kind, ev.target, ev.source, ev.timer_id(), ev.msg(), ev.instance});
  switch (ev.kind) {
    case EventKind::kDeliver:
      return Deliver(ev.target, ev.instance, ev.msg_ptr());
    case EventKind::kTimer:
      return OnTimerEvent(ev);
    case EventKind::kCpuDone: {
      ReplicaHost& h = Host(ev.target, ev.instance);
      if (ev.generation != static_cast<uint32_t>(h.epoch)) return;  // started before a crash: void
      h.busy = false;
      ApplyReplicaEffects(ev.target, ev.instance);
      return ProcessInbox(ev.target, ev.instance);
    }
    case EventKind::kSubmit: {
      uint32_t c = ev.target - static_cast<uint32_t>(replicas_.size());
      StepClient(c, Input::Submit());
      return ScheduleNextArrival(c);
    }
    case EventKind::kSample:
      Sample();
      if (!stop_) Schedule(now_ + opts_.interval, {EventKind::kSample, 0, 0, 0, 0, 0, nullptr});
      return;
    case EventKind::kFault:
      return ApplyFault(faults_->transitions()[ev.timer_id()]);
    case EventKind::kDelayedSend: {
      ReplicaHost& h = Host(ev.source, ev.instance);
      if (h.crashed || ev.generation != static_cast<uint32_t>(h.epoch)) return;
      if (ev.target != kToGroup) return Transmit(ev.source, ev.instance, ev.target, ev.msg_ptr(), h.rng);
      for (NodeId member : *h.group) {
        if (member != ev.source) Transmit(ev.source, ev.instance, member, ev.msg_ptr(), h.rng);
      }
      return;
    }
  }
}

void Simulation::ApplyFault(const FaultSchedule::Transition& t) {
  faults_->Apply(t);
  const scenario::Fault& f = faults_->fault(t.fault);
  obs_->all.Fault(now_, {t.start, f});
  switch (f.kind()) {
    case scenario::Fault::CRASH:
      for (uint32_t r : f.replicas()) {
        for (uint8_t inst = 0; inst < Instances(r); ++inst) {  // a twin's machines crash together
          ReplicaHost& h = Host(r, inst);
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
            OnReplicaInput(r, inst, Input::Start(), 0);
          }
        }
      }
      return;
    case scenario::Fault::SLOW:
      // The speed of each replica is that of the most recently started active SLOW fault on it.
      for (uint32_t r : f.replicas()) {
        for (uint8_t inst = 0; inst < Instances(r); ++inst)
          Host(r, inst).speed = faults_->SpeedOf(r, replicas_[r].base_speed);
      }
      return;
    case scenario::Fault::PARTITION:
    case scenario::Fault::LINK:
      return;  // consulted by Transmit
  }
}

void Simulation::ScheduleNextArrival(uint32_t c) {
  TimeNs gap = std::max<TimeNs>(1, MsToNs(clients_[c].rng.Exponential(opts_.arrival_mean_ms)));
  Schedule(now_ + gap, {EventKind::kSubmit, 0, static_cast<NodeId>(replicas_.size() + c), 0, 0, 0, nullptr});
}

void Simulation::Deliver(NodeId to, uint8_t inst, const MessagePtr& m) {
  obs_->all.Delivered(now_, to);
  if (IsClient(to)) return StepClient(to - static_cast<uint32_t>(replicas_.size()), Input::Deliver(m));
  ReplicaHost& h = Host(to, inst);
  if (h.crashed) return;  // lost with the crashed host
  ReplicaStats& st = h.stats;
  ++st.messages_received;
  st.bytes_received += m->wire_size;
  if (h.drop_out_of_order && h.sm->DropOutOfOrder(*m)) return;
  if (opts_.inbox_limit > 0 && (h.busy || now_ < h.busy_until) && h.inbox_bytes + m->wire_size > opts_.inbox_limit) {
    ++st.inbox_dropped;  // the receive buffer is full: the replica is too slow for its load
    ++inbox_dropped_;
    return;
  }
  h.inbox_bytes += m->wire_size;
  OnReplicaInput(to, inst, Input::Deliver(m), m->wire_size);
}

void Simulation::OnReplicaInput(uint32_t r, uint8_t inst, Input in, uint32_t bytes) {
  ReplicaHost& h = Host(r, inst);
  if (h.crashed) return;
  if (!h.busy && h.inbox.empty() && now_ >= h.busy_until) {
    // An idle CPU takes it at once (what ProcessInbox would do, without the queue).
    Handle(r, inst, in, now_);
    return ProcessInbox(r, inst);
  }
  h.inbox.push_back({std::move(in), now_});
  if (h.busy) return;
  if (now_ < h.busy_until) {
    // The CPU is still on an input that had no effects: this one waits for it to finish.
    h.busy = true;
    h.cpu_done_at = h.busy_until;
    Schedule(h.busy_until, {EventKind::kCpuDone, inst, r, r, static_cast<uint32_t>(h.epoch), 0, nullptr});
    return;
  }
  ProcessInbox(r, inst);
}

// Runs queued inputs through the state machine, one at a time. An input's effects take effect when
// the CPU finishes handling it; with zero costs that is immediately.
void Simulation::ProcessInbox(uint32_t r, uint8_t inst) {
  ReplicaHost& h = Host(r, inst);
  while (!h.busy && !h.inbox.empty()) {
    Queued q = std::move(h.inbox.front());
    h.inbox.pop_front();
    if (!Handle(r, inst, q.in, q.arrived)) {
      // The next input is read when this one's CPU time is up. A saturated replica's inbox is long
      // and its front went cold while it waited (reading it was a tenth of a scale-1000 run):
      // fetch its line now, while the rest of this step runs.
      if (!h.inbox.empty()) __builtin_prefetch(&h.inbox.front());
      return;
    }
  }
}

// One input on the replica's CPU. Returns false when the CPU stays busy with it (or after it).
bool Simulation::Handle(uint32_t r, uint8_t inst, const Input& in, TimeNs arrived) {
  ReplicaHost& h = Host(r, inst);
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
      Schedule(d.at,
               {EventKind::kDelayedSend, inst, d.send.to, r, static_cast<uint32_t>(h.epoch), 0, std::move(d.send.msg)});
    }
  }
  const TimeNs cost = CpuTime(h, bytes, arrived);
  if (cost > 0) {
    if (h.fx.Quiet() && h.inbox.empty()) {
      ApplyReplicaEffects(r, inst);  // counts rejections; there is nothing to wait for
      h.busy_until = now_ + cost;
      return false;
    }
    h.busy = true;
    h.cpu_done_at = now_ + cost;
    Schedule(now_ + cost, {EventKind::kCpuDone, inst, r, r, static_cast<uint32_t>(h.epoch), 0, nullptr});
    return false;
  }
  ApplyReplicaEffects(r, inst);
  return true;
}

// How long the input keeps the replica's (ordering) core from the next one, from now.
TimeNs Simulation::CpuTime(ReplicaHost& h, uint32_t bytes, TimeNs arrived) {
  if (h.workers.empty()) {
    const TimeNs cost = cpu_.Cost(bytes, h.fx.ops, h.speed);
    h.stats.cpu_busy += cost;
    return cost;
  }
  // Its authentication ran on the first free worker from its arrival (inputs reach the workers in
  // arrival order, as they reach the ordering core); the ordering core waits for it if need be.
  const CpuModel::Parts parts = cpu_.Split(bytes, h.fx.ops, h.speed);
  h.stats.cpu_busy += parts.authenticate + parts.order;
  TimeNs& worker = *std::min_element(h.workers.begin(), h.workers.end());
  const TimeNs authenticated = std::max(arrived, worker) + parts.authenticate;
  if (parts.authenticate > 0) worker = authenticated;
  return std::max(now_, authenticated) + parts.order - now_;
}

void Simulation::ApplyReplicaEffects(uint32_t r, uint8_t inst) {
  ReplicaHost& h = Host(r, inst);
  Effects& fx = h.fx;
  h.stats.rejected += fx.rejected;
  obs_->all.ReplicaStepped(now_, {r, h.cluster, topo_.GroupOf(r), h.byzantine.empty(), fx, *h.sm});
  for (const Outgoing& o : fx.sends) {
    if (o.msg->type == MsgType::kPrepare || o.msg->type == MsgType::kCommit) ++h.stats.votes_sent;
    if (o.to == kToGroup) {
      for (NodeId member : *h.group) {
        if (member != r) Transmit(r, inst, member, o.msg, h.rng);
      }
    } else {
      Transmit(r, inst, o.to, o.msg, h.rng);
    }
  }
  ApplyTimers(r, inst, h.timers, fx.timers);
  for (const Execution& ex : fx.executed) {
    if (record_executions_) h.history.push_back(ex);
    ++h.stats.executed_batches;
    h.stats.executed_requests += ex.requests;
  }
  fx.Clear();
}

void Simulation::StepClient(uint32_t c, const Input& in) {
  clients_[c].fx.Clear();
  clients_[c].sm->Step(now_, in, clients_[c].fx);
  ApplyClientEffects(c);
}

void Simulation::ApplyClientEffects(uint32_t c) {
  ClientHost& h = clients_[c];
  NodeId self = static_cast<NodeId>(replicas_.size() + c);
  for (const Outgoing& o : h.fx.sends) Transmit(self, 0, o.to, o.msg, h.rng);
  ApplyTimers(self, 0, h.timers, h.fx.timers);
  obs_->all.ClientStepped(now_, {self, h.cluster, h.fx});
  if (opts_.fixed_count && !h.fx.completions.empty() && h.sm->done() &&
      std::all_of(clients_.begin(), clients_.end(), [](const ClientHost& x) { return x.idle || x.sm->done(); })) {
    stop_ = true;  // every request answered: the experiment is over
  }
  h.fx.Clear();
}

void Simulation::ApplyTimers(NodeId node, uint8_t inst, Timers& timers, const std::vector<TimerOp>& ops) {
  for (const TimerOp& op : ops) {
    if (op.cancel) {
      timers.pending.erase(op.id);
      continue;
    }
    const uint32_t gen = ++timers.next_generation;
    timers.pending[op.id] = gen;
    Schedule(std::max(op.at, now_), {EventKind::kTimer, inst, node, node, gen, op.id, nullptr});
  }
}

void Simulation::Transmit(NodeId from, uint8_t from_inst, NodeId to, const MessagePtr& m, Rng& rng) {
  if (twins_.empty()) return Send(from, 0, to, 0, m, rng, false);
  TransmitAmongTwins(from, from_inst, to, m, rng);
}

// While a twin is split, each of its instances and the replicas on that instance's side form one
// network: a message crossing sides is lost, as across a partition. Clients reach (and hear) both
// instances, and so does every replica while the twin is not split: two machines, one identity.
void Simulation::TransmitAmongTwins(NodeId from, uint8_t from_inst, NodeId to, const MessagePtr& m, Rng& rng) {
  bool blocked = false;
  if (const ByzantineBehaviour* sender = TwinOf(from); sender && sender->Split(now_) && !IsClient(to))
    blocked = sender->OnSideB(to) != (from_inst == 1);
  const ByzantineBehaviour* receiver = TwinOf(to);
  if (receiver == nullptr) return Send(from, from_inst, to, 0, m, rng, blocked);
  if (receiver->Split(now_) && !IsClient(from))
    return Send(from, from_inst, to, receiver->OnSideB(from) ? 1 : 0, m, rng, blocked);
  Send(from, from_inst, to, 0, m, rng, blocked);
  Send(from, from_inst, to, 1, m, rng, blocked);
}

void Simulation::Send(NodeId from, uint8_t from_inst, NodeId to, uint8_t to_inst, const MessagePtr& m, Rng& rng,
                      bool blocked) {
  Network::Transit t = network_->Send(now_, from, to, m->wire_size, rng, faults_->LinkFault(from, to));
  t.lost = t.lost || blocked || faults_->Blocked(from, to);
  const bool from_client = IsClient(from);
  obs_->all.Transmit(now_,
                     {from, to, *m, from_client ? clients_[from - replicas_.size()].cluster : replicas_[from].cluster,
                      from_client, t.wan, t.lost});
  if (!from_client) {
    ReplicaStats& st = Host(from, from_inst).stats;
    ++st.messages_sent;
    st.bytes_sent += m->wire_size;
  }
  if (t.lost) return;
  Schedule(t.arrival, {EventKind::kDeliver, to_inst, to, from, 0, 0, m});
}

// The world as observers may see it: each replica through its protocol-neutral view.
std::vector<ReplicaAtSample> Simulation::ReplicasNow() const {
  std::vector<ReplicaAtSample> out;
  out.reserve(replicas_.size());
  for (const ReplicaHost& h : replicas_) {
    out.push_back({h.sm.get(), h.cluster, h.crashed, &h.byzantine, h.inbox.size(),
                   std::max(h.busy_until, h.busy ? h.cpu_done_at : 0)});
  }
  return out;
}

void Simulation::Sample() {
  const std::vector<ReplicaAtSample> replicas = ReplicasNow();
  std::vector<ClientAtSample> clients;
  clients.reserve(clients_.size());
  uint64_t outstanding = 0;
  for (const ClientHost& c : clients_) {
    clients.push_back({c.sm->outstanding(), c.sm->completed()});
    outstanding += c.sm->outstanding();
  }
  const TimeNs since = last_sample_;
  last_sample_ = now_;
  obs_->all.Sample(now_, {since, replicas, clients, outstanding});
  if (obs_->stall.stalled()) stop_ = true;
}

int Simulation::MostAdvanced() const { return MostAdvancedHonest(ReplicasNow()); }

}  // namespace geopbft
