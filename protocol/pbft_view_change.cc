// PBFT view change (Castro & Liskov, TOCS 2002, §4.4).
//
// A backup that waits too long for a request to execute suspects the primary and sends a signed
// VIEW-CHANGE for the next view carrying its stable checkpoint (with proof) and what it prepared
// (P) and pre-prepared (Q) above it. The timer doubles with each consecutive view change, so a
// group eventually reaches a view whose primary is correct and timely. f+1 VIEW-CHANGEs for higher
// views make a replica join. The new primary, with 2f+1 VIEW-CHANGEs, re-proposes what may have
// committed (null requests for the gaps) in a signed NEW-VIEW that carries those VIEW-CHANGEs, and
// every backup re-runs the selection before accepting it.
#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "protocol/pbft_replica.h"
#include "protocol/quorum.h"

namespace geopbft {
// The view-change timer. Outside a view change it is the request timeout: it runs while we wait
// for something (a client's request, a proposal we accepted) and restarts on progress. Progress
// does not re-arm the timer event (one event per execution would flood the event queue under
// load): the pending event finds the later start and is set again for the rest.
//
// Castro and Liskov's back-off: the first view change gets the request timeout T to bring the new
// view and a request executed in it; only when that fails too does the next one wait 2T, then 4T.
// (We used to double from the first, so a view change that led to another faulty primary waited
// 2T for it. Found by the swarm, seed 1003377 of --protocol=geobft: the view after a heal went to
// a turncoat, and the cluster completed again 4.5 s after the heal, past the 4 s bound.)
TimeNs PbftReplica::ViewChangeTimeout() const {
  return config_.request_timeout << std::min<uint32_t>(vc_.attempts > 0 ? vc_.attempts - 1 : 0, 8);
}

void PbftReplica::SetViewChangeEvent(TimeNs at, Effects& out) { timers_.Set(kViewChangeTimer, at, out); }

void PbftReplica::ArmViewChangeTimer(TimeNs now, Effects& out) {
  if (view_changing_ && !ViewChangeQuorum()) return;  // see ArmViewChangeTimerOnQuorum
  vc_.running = true;
  vc_.since = now;
  SetViewChangeEvent(now + ViewChangeTimeout(), out);
}

void PbftReplica::StartWaiting(TimeNs now, Effects& out) {
  if (view_changing_ || vc_.running) return;  // (a view change has its own timer)
  vc_.running = true;
  vc_.since = now;
  if (!timers_.Armed(kViewChangeTimer) || timers_.At(kViewChangeTimer) > now + ViewChangeTimeout())
    SetViewChangeEvent(now + ViewChangeTimeout(), out);
}

void PbftReplica::StopViewChangeTimer(Effects& out) {
  timers_.Cancel(kViewChangeTimer, out);
  vc_.running = false;
}

void PbftReplica::OnViewChangeTimer(TimeNs now, Effects& out) {
  if (!view_changing_) {
    // Nothing left to wait for (executed meanwhile, e.g. by state transfer): no one to blame.
    if (!vc_.running) return;
    if (vc_.waiting.empty() && !AwaitsProposal()) {
      vc_.running = false;
      return;
    }
    if (now < vc_.since + ViewChangeTimeout()) return SetViewChangeEvent(vc_.since + ViewChangeTimeout(), out);
    if (GroupIsAhead() || (config_.defer_execution && last_executed_ >= proposer_.limit)) {
      // f+1 replicas (one correct at least) checkpointed beyond what we executed: the group is
      // making progress and we are the one behind. Catch up instead of blaming the primary.
      // (GeoBFT: at the proposal limit the cluster waits for global execution, not for the
      // primary.)
      ArmViewChangeTimer(now, out);
      return;
    }
  }
  // No progress on what we wait for (or the view change itself stalled): next view.
  StartViewChange(now, view_ + 1, out);
}

void PbftReplica::OnProgress(TimeNs now, bool waited_request_done, Effects& out) {
  if (view_changing_) return;  // executing by state transfer is no progress of the new view
  // A primary executing others' requests is not off the hook for a request we wait for; without
  // such a request, any execution shows the view works.
  if (!waited_request_done && !vc_.waiting.empty()) return;
  vc_.attempts = 0;
  if (vc_.waiting.empty() && !AwaitsProposal()) {
    vc_.running = false;  // (a pending event finds nothing to do)
    return;
  }
  // Progress: the rest get a fresh timeout.
  vc_.running = true;
  vc_.since = now;
  if (!timers_.Armed(kViewChangeTimer)) SetViewChangeEvent(now + ViewChangeTimeout(), out);
}

bool PbftReplica::AwaitsProposal() const {
  for (auto it = log_.upper_bound(last_executed_); it != log_.end() && it->first <= ckpt_.stable_seq + config_.window;
       ++it) {
    // (A leader's own proposals are no reason to suspect itself.)
    if (it->second.pre_prepare && it->second.view == view_ && LeaderOf(it->first, view_) != config_.self_index) {
      return true;
    }
  }
  return false;
}

void PbftReplica::StartViewChange(TimeNs now, uint64_t new_view, Effects& out) {
  if (new_view <= view_ && (view_changing_ || new_view < view_)) return;
  if (!InCommittee()) {
    // A listener has no say: it keeps its requests with the leader and follows the NEW-VIEW.
    for (const auto& [key, r] : vc_.waiting) out.Send(r, primary());
    if (!vc_.waiting.empty()) ArmViewChangeTimer(now, out);
    return;
  }
  view_ = new_view;
  view_changing_ = true;
  ++vc_.attempts;
  // Requests the old primary held become requests we wait for (and forward to the next primary).
  for (const MessagePtr& r : proposer_.pending) {
    vc_.waiting.try_emplace({r->env.request().client(), r->env.request().timestamp()}, r);
  }
  KeepProposedRequests();
  proposer_.pending.clear();
  proposer_.in_flight.clear();
  timers_.Cancel(kBatchTimer, out);
  proposer_.batch_due = false;

  wire::Envelope env;
  wire::ViewChange* vc = env.mutable_view_change();
  vc->set_new_view(new_view);
  vc->set_replica(identity_.self());
  vc->set_stable_seq(ckpt_.stable_seq);
  if (ckpt_.stable_seq > 0) {
    vc->set_stable_digest(std::string(ckpt_.stable_digest.view()));
    for (const wire::Envelope& proof : ckpt_.stable_proof) *vc->add_checkpoint_proof() = proof;
  }
  for (const auto& [seq, slot] : log_) {
    if (seq <= ckpt_.stable_seq || seq > ckpt_.stable_seq + config_.window) continue;
    if (slot.has_prepared_claim) {
      wire::SlotClaim* p = vc->add_prepared();
      p->set_seq(seq);
      p->set_view(slot.prepared_view);
      p->set_digest(std::string(slot.prepared_digest.view()));
      *vc->add_batches() = SealedEnvelope(*slot.prepared_batch).pre_prepare().batch();
    }
    for (const auto& [digest, view] : slot.pre_prepared) {
      wire::SlotClaim* q = vc->add_pre_prepared();
      q->set_seq(seq);
      q->set_view(view);
      q->set_digest(std::string(digest.view()));
    }
  }
  MessagePtr m = Seal(std::move(env), identity_, Auth::Signature(), out.ops);
  out.Send(m, kToGroup);
  // VIEW-CHANGEs for views we left behind can no longer form a NEW-VIEW or make us join.
  vc_.msgs.erase(vc_.msgs.begin(), vc_.msgs.lower_bound(new_view));
  vc_.deferred_proposals.clear();
  vc_.msgs[new_view][config_.self_index] = m;
  StopViewChangeTimer(out);
  ArmViewChangeTimerOnQuorum(now, out);
  ArmStatusTimer(now, out);  // repeats our VIEW-CHANGE until the view is installed
  TryNewView(now, out);
}

// Castro & Liskov's first liveness rule: the timer of a view change starts only once 2f+1
// VIEW-CHANGEs for the view are here. If the new primary then fails too, we move on (with
// back-off); but a replica that timed out alone (say, just before a partition healed) waits in its
// view for the others instead of climbing views on its own, so that when they do suspect the
// primary they find it in the view they move to.
void PbftReplica::ArmViewChangeTimerOnQuorum(TimeNs now, Effects& out) {
  if (view_changing_ && !timers_.Armed(kViewChangeTimer)) ArmViewChangeTimer(now, out);
}

bool PbftReplica::ViewChangeQuorum() const {
  auto it = vc_.msgs.find(view_);
  if (it == vc_.msgs.end()) return false;
  const RoleEpoch& roles = CurrentRoles();
  uint32_t voters = 0;
  for (const auto& [i, msg] : it->second) voters += roles.Votes(i);
  return voters >= CommitQuorum(roles.size(), config_.f);
}

void PbftReplica::OnViewChange(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::ViewChange& vc = m->env.view_change();
  int index = members_.Of(m->sender);
  if (index < 0 || !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  if (!CurrentRoles().Votes(static_cast<uint32_t>(index))) return;  // only the committee votes on views
  if (vc.new_view() < view_ || (vc.new_view() == view_ && !view_changing_)) {
    // The sender is behind: show it how this view was installed.
    if (vc_.last_new_view && vc.new_view() <= view_) out.Send(vc_.last_new_view, m->sender);
    return;
  }
  if (!ValidateViewChange(vc, m->sender, vc.new_view(), group(), identity_, out.ops).ok()) {
    ++out.rejected;
    return;
  }
  vc_.msgs[vc.new_view()][static_cast<uint32_t>(index)] = m;
  while (vc_.msgs.size() > kMaxFutureViews) vc_.msgs.erase(std::prev(vc_.msgs.end()));

  // f+1 replicas want a view above ours: at least one correct replica suspects the primary. Join
  // the smallest such view (each sender counted once, at its smallest).
  absl::btree_map<uint32_t, uint64_t> smallest;
  for (const auto& [v, msgs] : vc_.msgs) {
    if (v <= view_) continue;
    for (const auto& [i, msg] : msgs) smallest.try_emplace(i, v);
  }
  if (smallest.size() >= config_.f + 1) {
    uint64_t target = UINT64_MAX;
    for (const auto& [i, v] : smallest) target = std::min(target, v);
    StartViewChange(now, target, out);
  }
  ArmViewChangeTimerOnQuorum(now, out);
  TryNewView(now, out);
}

void PbftReplica::TryNewView(TimeNs now, Effects& out) {
  if (!view_changing_ || PrimaryOf(view_) != config_.self_index) return;
  const RoleEpoch& roles = CurrentRoles();
  const uint32_t m_size = roles.size();
  auto it = vc_.msgs.find(view_);
  if (it == vc_.msgs.end()) return;
  // Only the VIEW-CHANGEs of today's committee: one kept from a member that has become a listener
  // since (under reputation, roles move as we execute) makes the NEW-VIEW invalid under every epoch
  // (found by the swarm, seed 88 of --protocol=reputation).
  std::vector<const wire::Envelope*> envs;
  for (const auto& [i, msg] : it->second) {
    if (roles.Votes(i)) envs.push_back(&msg->env);
  }
  if (envs.size() < CommitQuorum(m_size, config_.f)) return;
  std::vector<const wire::ViewChange*> vcs;
  for (const wire::Envelope* e : envs) vcs.push_back(&e->view_change());
  absl::StatusOr<NewViewPlan> plan = SelectProposals(vcs, m_size, config_.f);
  if (!plan.ok()) return;  // some sequence number is undecided: wait for more VIEW-CHANGEs

  wire::Envelope env;
  wire::NewView* nv = env.mutable_new_view();
  nv->set_view(view_);
  for (const wire::Envelope* e : envs) *nv->add_view_changes() = *e;
  for (const Proposal& p : plan->proposals) {
    wire::SlotClaim* c = nv->add_proposals();
    c->set_seq(p.seq);
    c->set_view(view_);
    c->set_digest(std::string(p.digest.view()));
    wire::Batch* b = nv->add_batches();
    if (p.batch) *b = *p.batch;
  }
  MessagePtr m = Seal(std::move(env), identity_, Auth::Signature(), out.ops);
  out.Send(m, kToGroup);
  vc_.last_new_view = m;
  // Re-run the plan on the NEW-VIEW's own copy so that the batches outlive the VIEW-CHANGE map.
  std::vector<const wire::ViewChange*> own;
  for (const wire::Envelope& e : m->env.new_view().view_changes()) own.push_back(&e.view_change());
  InstallView(now, view_, *SelectProposals(own, m_size, config_.f), out);
}

void PbftReplica::OnNewView(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::NewView& nv = m->env.new_view();
  if (nv.view() < view_ || (nv.view() == view_ && !view_changing_)) return;  // old news
  if (nv.view() == 0 || !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  // The leader of the view under the roles of any epoch we know: the NEW-VIEW's builder may be an
  // epoch ahead of or behind us (under reputation, committees change every few rounds, and view
  // changes happen exactly when replicas are at different rounds). What makes it valid is a quorum
  // of that epoch's committee in its VIEW-CHANGEs, so try each epoch whose leader sent it (an
  // earlier version took only the latest such epoch, and a replica whose latest epoch made one of
  // the signers a listener refused a valid NEW-VIEW for ever).
  for (auto it = roles_.epochs().rbegin(); it != roles_.epochs().rend(); ++it) {
    const RoleEpoch& roles = it->second;
    if (config_.members[roles.Leader(nv.view())] != m->sender) continue;
    absl::StatusOr<NewViewPlan> plan = CheckNewView(nv, roles, out.ops);
    if (!plan.ok()) continue;
    vc_.last_new_view = m;
    InstallView(now, nv.view(), *plan, out);
    // A view formed without our VIEW-CHANGE (lost to a partition, or we came late): the group has
    // been voting in it without us, and those votes were sent once. Ask now rather than when the
    // status timer finds us stuck, a quarter of the request timeout on. (Found by the swarm, seed
    // 1001820 of --protocol=pbft: 8 replicas, f = 2 faulty, so every commit needs all six honest
    // ones; one of them, cut off as the others moved to view 1, installed it at the heal but got the
    // others' PREPAREs 1.3 s later, and a replica waiting on its COMMIT timed out 7 ms before it came
    // and started a view change alone that held the group for another 2 s.)
    if (!view_changing_ && !IncludesOwnViewChange(nv)) SendStatus(out);
    return;
  }
  ++out.rejected;
}

// The requests of proposals we accepted but did not execute: unless the new view re-proposes their
// batch, they would wait for their clients to re-send (a client's timeout, and a slow next primary
// may then hold them just under ours). The proposals are kept until the view is installed; the new
// primary proposes their requests. (Found by the swarm, seed 1007336 of --protocol=pbft: an
// equivocating primary's requests were lost with its proposals, came back at the clients' 2 s
// timeout, and a slow next primary held them another 1.8 s: a cluster's first reply came 4.04 s
// into the run.)
void PbftReplica::KeepProposedRequests() {
  for (auto it = log_.upper_bound(last_executed_); it != log_.end(); ++it) {
    const MessagePtr& pp = it->second.pre_prepare;
    if (pp && pp->type == MsgType::kPrePrepare) vc_.dropped_proposals.try_emplace(it->first, pp);
  }
}

// The new primary's share of KeepProposedRequests: each request not executed here, once, as the
// client's message again (the batch carries its signature).
absl::btree_map<std::pair<NodeId, uint64_t>, MessagePtr> PbftReplica::DroppedRequests() const {
  absl::btree_map<std::pair<NodeId, uint64_t>, MessagePtr> requests;
  for (const auto& [seq, pp] : vc_.dropped_proposals) {
    const wire::Batch& batch = SealedEnvelope(*pp).pre_prepare().batch();
    for (int i = 0; i < batch.requests_size() && static_cast<size_t>(i) < pp->request_digests.size(); ++i) {
      const wire::Request& r = batch.requests(i).request();
      if (ExecutedHere(r.client(), r.timestamp()) || requests.contains({r.client(), r.timestamp()})) continue;
      requests.emplace(std::make_pair(r.client(), r.timestamp()),
                       UnpackRequest(batch.requests(i), pp->request_digests[i]));
    }
  }
  return requests;
}

bool PbftReplica::IncludesOwnViewChange(const wire::NewView& nv) const {
  return std::any_of(nv.view_changes().begin(), nv.view_changes().end(),
                     [&](const wire::Envelope& e) { return e.sender() == identity_.self(); });
}

absl::StatusOr<NewViewPlan> PbftReplica::CheckNewView(const wire::NewView& nv, const RoleEpoch& roles,
                                                      OpCounts& ops) const {
  // Every embedded VIEW-CHANGE must be valid and signed, from distinct committee members, 2f+1 at
  // least (SelectProposals counts them).
  std::vector<const wire::ViewChange*> vcs;
  absl::btree_set<NodeId> senders;
  for (const wire::Envelope& e : nv.view_changes()) {
    int index = members_.Of(e.sender());
    if (e.body_case() != wire::Envelope::kViewChange || !senders.insert(e.sender()).second || index < 0 ||
        !roles.Votes(static_cast<uint32_t>(index)) || !CheckEmbeddedSignature(e, e.sender(), identity_, ops) ||
        !ValidateViewChange(e.view_change(), e.sender(), nv.view(), group(), identity_, ops).ok()) {
      return absl::InvalidArgumentError("bad VIEW-CHANGE");
    }
    vcs.push_back(&e.view_change());
  }
  // The proposals must be exactly what the selection rule gives for these VIEW-CHANGEs.
  absl::StatusOr<NewViewPlan> plan = SelectProposals(vcs, roles.size(), config_.f);
  if (!plan.ok()) return plan;
  if (plan->proposals.size() != static_cast<size_t>(nv.proposals_size()) || nv.batches_size() != nv.proposals_size()) {
    return absl::InvalidArgumentError("proposals do not follow the VIEW-CHANGEs");
  }
  for (int i = 0; i < nv.proposals_size(); ++i) {
    const Proposal& want = plan->proposals[i];
    const wire::SlotClaim& got = nv.proposals(i);
    ops.checked_bytes += nv.batches(i).ByteSizeLong();
    if (got.seq() != want.seq || got.view() != nv.view() || Digest::FromBytes(got.digest()) != want.digest ||
        BatchDigest(nv.batches(i)) != want.digest) {
      return absl::InvalidArgumentError("proposals do not follow the VIEW-CHANGEs");
    }
  }
  return plan;
}

MessagePtr PbftReplica::MakeProposal(uint64_t view, uint64_t seq, const Digest& digest,
                                     const wire::Batch* batch) const {
  auto [m_ptr, m] = MakeMessage();
  wire::PrePrepare* pp = m->env.mutable_pre_prepare();
  pp->set_view(view);
  pp->set_seq(seq);
  pp->set_digest(std::string(digest.view()));
  if (batch) *pp->mutable_batch() = *batch;
  m->env.set_sender(vc_.last_new_view ? vc_.last_new_view->sender : config_.members[PrimaryOf(view)]);
  m->type = MsgType::kPrePrepare;
  m->sender = m->env.sender();
  m->view = view;
  m->seq = seq;
  m->batch_digest = digest;
  return m_ptr;
}

void PbftReplica::AdoptDeferredProposals(TimeNs now, Effects& out) {
  for (auto it = vc_.deferred_proposals.begin(); it != vc_.deferred_proposals.end();) {
    const uint64_t seq = it->first;
    if (seq > ckpt_.stable_seq + config_.window) break;  // (ordered: the rest lie above it too)
    if (seq > last_executed_ && InWindow(seq)) {
      auto slot = log_.find(seq);
      if (slot == log_.end() || slot->second.view != view_ || !slot->second.pre_prepare) {
        AcceptPrePrepare(now, seq, it->second, it->second->batch_digest, out);
      }
    }
    it = vc_.deferred_proposals.erase(it);
  }
}

void PbftReplica::InstallView(TimeNs now, uint64_t view, const NewViewPlan& plan, Effects& out) {
  view_ = view;
  view_changing_ = false;
  ++view_changes_installed_;
  ++out.views_installed;
  if (config_.defer_execution) ++outcome_.views_installed;
  vc_.msgs.erase(vc_.msgs.begin(), vc_.msgs.upper_bound(view));
  timers_.Forget(kStatusTimer);  // a timer set while changing views may be gone
  repair_.gap_armed = false;
  ArmStatusTimer(now, out);
  if (plan.checkpoint_seq > ckpt_.stable_seq && plan.checkpoint_seq > last_executed_ && !config_.drop_out_of_order) {
    // The new view starts above what we have: fetch the certified state first.
    ckpt_.fetching_seq = plan.checkpoint_seq;
    ckpt_.fetch_attempt = 0;
    RequestState(now, out);
  }
  // Proposals continue after the re-proposed ones (whoever leads them).
  proposer_.next_seq = std::max(plan.max_prepared_seq, std::max(plan.checkpoint_seq, last_executed_));
  vc_.deferred_proposals.clear();
  repair_.early_proposals.clear();  // proposals of the old view
  for (const Proposal& p : plan.proposals) {
    if (InWindow(p.seq)) {
      AcceptPrePrepare(now, p.seq, MakeProposal(view, p.seq, p.digest, p.batch), p.digest, out);
    } else if (p.seq > ckpt_.stable_seq + config_.window) {
      // Above our window (we are fetching the state the view starts from): keep it for when the
      // window gets there. The NEW-VIEW, which peers resend, is old news by then.
      vc_.deferred_proposals[p.seq] = MakeProposal(view, p.seq, p.digest, p.batch);
    }
  }
  // Requests we waited for go to the new primary (or, on the new primary, into the next batches).
  // Requests already in a re-proposed batch will execute there: they are in flight, not waiting.
  absl::btree_set<std::pair<NodeId, uint64_t>> reproposed;
  for (const Proposal& p : plan.proposals) {
    if (!p.batch) continue;
    for (const wire::SignedRequest& r : p.batch->requests()) {
      reproposed.insert({r.request().client(), r.request().timestamp()});
    }
  }
  if (IsPrimary()) {
    for (const auto& key : reproposed) proposer_.in_flight.insert(key);
    const auto dropped = DroppedRequests();
    for (const auto* requests : {&std::as_const(vc_.waiting), &dropped}) {
      for (const auto& [key, r] : *requests) {
        if (ExecutedHere(key.first, key.second) || reproposed.contains(key)) continue;
        if (proposer_.in_flight.insert(key).second) proposer_.pending.push_back(r);
      }
    }
    vc_.waiting.clear();
    StopViewChangeTimer(out);
    TryPropose(now, out);
  } else {
    for (const auto& [key, r] : vc_.waiting) {
      if (!reproposed.contains(key)) out.Send(r, primary());
    }
    // A fresh request timeout in the new view for what we still wait for (requests, re-proposals).
    StopViewChangeTimer(out);
    if (!vc_.waiting.empty() || AwaitsProposal()) ArmViewChangeTimer(now, out);
  }
  vc_.dropped_proposals.clear();
  ExecuteCommitted(now, out);
}

}  // namespace geopbft
