// PBFT normal case: requests, batching, PRE-PREPARE / PREPARE / COMMIT, execution and replies.
#include "protocol/pbft_replica.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "protocol/client_lookaside.h"
#include "protocol/quorum.h"

namespace geopbft {

bool PbftReplica::ClientRecord::Execute(uint64_t ts) { return executed.Insert(ts); }

PbftReplica::PbftReplica(PbftConfig config, Identity identity)
    : config_(std::move(config)),
      identity_(identity),
      members_(config_.members),
      roles_(RoleSchedule::Everyone(members_.size())) {}

size_t PbftReplica::state_entries() const {
  size_t n = log_.size() + ckpt_.snapshots.size() + vc_.waiting.size() + proposer_.pending.size() +
             proposer_.in_flight.size() + rep_.future_proposals.size() + vc_.deferred_proposals.size() +
             repair_.early_proposals.size() + vc_.dropped_proposals.size() + roles_.epochs().size() +
             defence_.proofs.size() + defence_.complaint_certs.size();
  for (const auto& [v, by] : defence_.complaints) n += by.size();
  for (const auto& [seq, votes] : ckpt_.votes) n += votes.size();
  for (const auto& [v, msgs] : vc_.msgs) n += msgs.size();
  for (const auto& [c, rec] : clients_) n += 1 + rec.executed.above_count() + rec.results.size();
  return n;
}

std::string PbftReplica::BoundViolation() const {
  // Watermarks: every slot lies in (stable, stable + window]; so do proposals kept for later roles.
  if (!log_.empty() && (!InWindow(log_.begin()->first) || !InWindow(log_.rbegin()->first))) {
    return absl::StrFormat("log holds sequence numbers %d..%d outside its window (%d, %d]", log_.begin()->first,
                           log_.rbegin()->first, ckpt_.stable_seq, ckpt_.stable_seq + config_.window);
  }
  if (!rep_.future_proposals.empty() &&
      (!InWindow(rep_.future_proposals.begin()->first) || !InWindow(rep_.future_proposals.rbegin()->first))) {
    return "proposals kept for later roles lie outside the window";
  }
  if (vc_.deferred_proposals.size() > config_.window) return "more deferred re-proposals than a window";
  if (repair_.early_proposals.size() > config_.window) return "more early proposals than a window";
  if (ckpt_.votes.size() > kMaxCheckpointSeqs) return "CHECKPOINTs kept for too many sequence numbers";
  if (vc_.msgs.size() > kMaxFutureViews) return "VIEW-CHANGEs kept for too many views";
  // Own snapshots: taken every checkpoint interval up to what was executed, at most a window above
  // the stable one.
  if (config_.checkpoint_interval > 0 && ckpt_.snapshots.size() > config_.window / config_.checkpoint_interval + 1) {
    return absl::StrFormat("%d snapshots kept above the stable checkpoint", ckpt_.snapshots.size());
  }
  for (const auto& [c, rec] : clients_) {
    if (rec.results.size() > kKeptResults)
      return absl::StrFormat("%d results kept for client %d", rec.results.size(), c);
  }
  return "";
}

void PbftReplica::Step(TimeNs now, const Input& in, Effects& out) {
  Handle(now, in, out);
  Settle(now, out);
}

// The settle loop. A handler (or a hook) moves slots as far as their votes allow, and executes
// what committed (Advance -> ExecuteCommitted, with its checkpoints); what that makes possible in
// turn it notes in work_, and this pass carries out: a view change asked for (an equivocating or
// slow leader), adopting proposals deferred above a window that moved, the primary's next
// proposals; until nothing is left. It is the only caller of these steps, so the replica's methods
// never re-enter one another (proposing accepts, accepting executes, executing never proposes).
void PbftReplica::Settle(TimeNs now, Effects& out) {
  for (;;) {
    if (work_.view_change > 0) {
      StartViewChange(now, std::exchange(work_.view_change, 0), out);
    } else if (std::exchange(work_.window_moved, false)) {
      AdoptDeferredProposals(now, out);
      AdoptEarlyProposals(now, out);
      work_.propose = true;
    } else if (std::exchange(work_.propose, false)) {
      TryPropose(now, out);
    } else {
      break;
    }
  }
}

void PbftReplica::Handle(TimeNs now, const Input& in, Effects& out) {
  switch (in.kind) {
    case Input::Kind::kStart:
      // Start, or restart after a crash: timers did not survive, so re-arm what is owed.
      timers_.Clear();
      vc_.running = false;
      repair_.gap_armed = false;
      ArmStatusTimer(now, out);
      if (view_changing_) {
        ArmViewChangeTimerOnQuorum(now, out);
      } else if (!vc_.waiting.empty() || AwaitsProposal()) {
        ArmViewChangeTimer(now, out);
      }
      if (ckpt_.fetching_seq > 0) timers_.Set(kFetchTimer, now + config_.request_timeout / 4, out);
      work_.propose = true;
      return;
    case Input::Kind::kSubmit:
      return;
    case Input::Kind::kTimer:
      return OnTimer(now, in.timer, out);
    case Input::Kind::kMessage:
      break;
  }
  const MessagePtr& m = in.msg;
  switch (m->type) {
    case MsgType::kRequest:
      return OnRequest(now, m, out);
    case MsgType::kPrePrepare:
      return OnPrePrepare(now, m, out);
    case MsgType::kPrepare:
    case MsgType::kCommit:
      return OnVote(now, m, out);
    case MsgType::kCheckpoint:
      return OnCheckpoint(now, m, out);
    case MsgType::kFetchState:
      return OnFetchState(m, out);
    case MsgType::kStateTransfer:
      return OnStateTransfer(now, m, out);
    case MsgType::kViewChange:
      return OnViewChange(now, m, out);
    case MsgType::kNewView:
      return OnNewView(now, m, out);
    case MsgType::kStatus:
      return OnStatus(now, m, out);
    case MsgType::kComplaint:
      return OnComplaint(now, m, out);
    case MsgType::kAccusation:
      return OnAccusation(m, out);
    case MsgType::kReply:
    // (GeoBFT's global layer takes these before its local PBFT sees anything.)
    case MsgType::kGlobalShare:
    case MsgType::kRemoteViewChangeRequest:
    case MsgType::kRemoteViewChange:
    case MsgType::kGlobalStateRequest:
    case MsgType::kGlobalState:
    case MsgType::BODY_NOT_SET:
      break;
  }
  ++out.rejected;  // not a message a replica handles
}

void PbftReplica::OnRequest(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::Request& req = m->env.request();
  if (req.client() != m->sender || members_.Of(m->sender) >= 0 ||
      !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  auto rec = clients_.find(req.client());
  if (rec != clients_.end() && rec->second.Executed(req.timestamp())) {
    // Executed here, but under GeoBFT only ordered locally: the global layer executes it and
    // answers (a reply now would precede its execution and carry a result of the wrong position).
    if (config_.defer_execution) return;
    // Already executed: the client lost our reply; send it again if we still have it.
    if (const uint64_t* result = rec->second.results.Find(req.timestamp()))
      SendReply(req.client(), req.timestamp(), *result, out);
    return;
  }
  if (!IsPrimary() || view_changing_) {
    // A client re-sent to everyone: the primary may be faulty. Make sure it has the request, and
    // suspect it if the request is not executed in time.
    vc_.waiting.try_emplace({req.client(), req.timestamp()}, m);
    if (!view_changing_) out.Send(m, primary());
    StartWaiting(now, out);
    ArmStatusTimer(now, out);  // a request waiting is work: ask for what we may have missed
    return;
  }
  if (!proposer_.in_flight.insert({req.client(), req.timestamp()}).second) return;  // duplicate
  proposer_.pending.push_back(m);
  work_.propose = true;
}

void PbftReplica::TryPropose(TimeNs now, Effects& out) {
  if (view_changing_) return;
  if (!IsPrimary()) return HandOver(now, out);
  while (!proposer_.pending.empty() && proposer_.next_seq < ckpt_.stable_seq + config_.window &&
         proposer_.next_seq < proposer_.limit && (!config_.drop_out_of_order || proposer_.next_seq == last_executed_) &&
         roles_.Known(proposer_.next_seq + 1) && LeaderOf(proposer_.next_seq + 1, view_) == config_.self_index) {
    if (proposer_.pending.size() < config_.batch_size && !proposer_.batch_due) break;
    size_t take = std::min<size_t>(config_.batch_size, proposer_.pending.size());
    std::vector<MessagePtr> batch(proposer_.pending.begin(), proposer_.pending.begin() + take);
    proposer_.pending.erase(proposer_.pending.begin(), proposer_.pending.begin() + take);
    uint64_t seq = ++proposer_.next_seq;
    wire::Batch extras;
    AttachEvidence(extras);
    MessagePtr pp = SealPrePrepare(view_, seq, batch, identity_, &config_.members, out.ops,
                                   config_.vote_evidence ? &extras : nullptr, config_.defend);
    out.Send(pp, kToGroup);
    proposer_.batch_due = false;
    AcceptPrePrepare(now, seq, pp, pp->batch_digest, out);
  }
  if (proposer_.pending.empty()) {
    timers_.Cancel(kBatchTimer, out);
    proposer_.batch_due = false;
  } else if (!timers_.Armed(kBatchTimer) && !proposer_.batch_due) {
    timers_.Set(kBatchTimer, now + config_.batch_timeout, out);
  }
}

void PbftReplica::OnTimer(TimeNs now, uint64_t id, Effects& out) {
  timers_.Fired(id);
  switch (id) {
    case kBatchTimer:
      proposer_.batch_due = true;
      work_.propose = true;
      return;
    case kViewChangeTimer:
      return OnViewChangeTimer(now, out);
    case kFetchTimer:
      return RequestState(now, out);
    case kStatusTimer:
      return OnStatusTimer(now, out);
  }
}

void PbftReplica::SetProposalLimit(TimeNs now, uint64_t limit, Effects& out) {
  proposer_.limit = limit;
  work_.propose = true;
  Settle(now, out);
}

void PbftReplica::ProposeNoops(TimeNs now, uint64_t upto, Effects& out) {
  if (!IsPrimary() || view_changing_) return;
  // Whatever is pending goes out now, even as a partial batch; empty rounds become no-ops.
  if (!proposer_.pending.empty()) {
    proposer_.batch_due = true;
    TryPropose(now, out);
  }
  while (proposer_.pending.empty() && proposer_.next_seq < upto &&
         proposer_.next_seq < ckpt_.stable_seq + config_.window && proposer_.next_seq < proposer_.limit &&
         roles_.Known(proposer_.next_seq + 1) && LeaderOf(proposer_.next_seq + 1, view_) == config_.self_index) {
    uint64_t seq = ++proposer_.next_seq;
    wire::Batch extras;
    AttachEvidence(extras);
    MessagePtr pp = SealPrePrepare(view_, seq, {}, identity_, &config_.members, out.ops,
                                   config_.vote_evidence ? &extras : nullptr, config_.defend);
    out.Send(pp, kToGroup);
    AcceptPrePrepare(now, seq, pp, pp->batch_digest, out);
  }
  Settle(now, out);
}

bool PbftReplica::GroupIsAhead() const {
  for (auto it = ckpt_.votes.upper_bound(last_executed_); it != ckpt_.votes.end(); ++it) {
    for (const auto& [digest, signers] : it->second) {
      if (signers.size() >= config_.f + 1) return true;
    }
  }
  return false;
}

bool PbftReplica::DropOutOfOrder(const Message& m) {
  if (!config_.drop_out_of_order) return false;
  if (m.type != MsgType::kPrePrepare && m.type != MsgType::kPrepare && m.type != MsgType::kCommit) return false;
  return OutOfOrder(m.view, m.seq);
}

bool PbftReplica::OutOfOrder(uint64_t view, uint64_t seq) {
  if (!config_.drop_out_of_order || (view == view_ && seq == last_executed_ + 1)) return false;
  ++out_of_order_dropped_;
  return true;
}

// The window moved: PRE-PREPAREs kept from above it go through the ordinary checks now.
void PbftReplica::AdoptEarlyProposals(TimeNs now, Effects& out) {
  while (!repair_.early_proposals.empty() &&
         repair_.early_proposals.begin()->first <= ckpt_.stable_seq + config_.window) {
    MessagePtr pp = std::move(repair_.early_proposals.begin()->second);
    repair_.early_proposals.erase(repair_.early_proposals.begin());
    OnPrePrepare(now, pp, out);
  }
}

void PbftReplica::OnPrePrepare(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::PrePrepare& pp = SealedEnvelope(*m).pre_prepare();  // (a repair may bring a kept one)
  if (pp.view() != view_ || view_changing_ || !InWindow(pp.seq())) {
    // Above our window in our view: the group moved its low watermark and we missed the proof
    // (lost CHECKPOINTs). Ask: the answer to STATUS carries it.
    if (pp.view() == view_ && !view_changing_ && pp.seq() > ckpt_.stable_seq + config_.window) {
      if (pp.seq() <= ckpt_.stable_seq + 2 * config_.window && members_.Of(m->sender) >= 0)
        repair_.early_proposals.try_emplace(pp.seq(), m);
      ArmStatusTimer(now, out, true);
    }
    return;  // stale or not for now
  }
  if (!roles_.Known(pp.seq())) {
    // Its leader comes from roles we have not computed yet (we are behind in execution): keep it.
    if (members_.Of(m->sender) >= 0) rep_.future_proposals[pp.seq()] = m;
    return;
  }
  uint32_t leader = LeaderOf(pp.seq(), view_);
  if (m->sender != config_.members[leader] || leader == config_.self_index ||
      !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  if (OutOfOrder(pp.view(), pp.seq())) return;
  // The batch must hash to the announced digest and every request must be signed by its client.
  out.ops.checked_bytes += m->payload_bytes;
  if (Digest::FromBytes(pp.digest()) != m->batch_digest ||
      m->request_digests.size() != static_cast<size_t>(pp.batch().requests_size())) {
    ++out.rejected;
    return;
  }
  // (Signatures checked once for every receiver of the proposal; each is charged for its own.)
  const uint32_t first_unsigned = FirstUnsignedRequest(*m, identity_);
  for (int i = 0; i < pp.batch().requests_size(); ++i) {
    const wire::SignedRequest& r = pp.batch().requests(i);
    ++out.ops.verifies;
    if (members_.Of(r.request().client()) >= 0 || static_cast<uint32_t>(i) == first_unsigned) {
      ++out.rejected;
      return;
    }
  }
  if ((config_.vote_evidence && !ValidEvidence(*m, out.ops)) || !SignedHeader(*m)) {
    ++out.rejected;
    return;
  }
  Slot& slot = SlotFor(pp.seq());
  if (slot.pre_prepare && slot.view == view_) {
    if (slot.digest != m->batch_digest) ++out.rejected;  // conflicting proposal: keep the first
    return;
  }
  AcceptPrePrepare(now, pp.seq(), m, m->batch_digest, out);
}

// Adopts `pp` as the proposal for `seq` in the current view (from the primary, or re-proposed by
// a NEW-VIEW) and, on a backup, sends its PREPARE.
void PbftReplica::AcceptPrePrepare(TimeNs now, uint64_t seq, MessagePtr pp, const Digest& digest, Effects& out) {
  Slot& slot = SlotInView(seq);
  slot.pre_prepare = std::move(pp);
  slot.proposed_at = now;
  slot.digest = digest;
  proposer_.next_seq =
      std::max(proposer_.next_seq, seq);  // what has been proposed (the next leader continues after it)
  bool found = false;
  for (auto& [d, v] : slot.pre_prepared) {
    if (d == digest) v = std::max(v, view_), found = true;
  }
  if (!found) slot.pre_prepared.push_back({digest, view_});
  // Votes that overtook the PRE-PREPARE now count for or against its digest.
  for (VoteSet* votes : {&slot.prepares, &slot.commits}) {
    for (const auto& [index, d] : votes->early) {
      if (d == slot.digest) {
        votes->SetMatch(index);
      } else {
        votes->SetConflict(index);
      }
    }
    votes->early.clear();
    votes->early.shrink_to_fit();
  }
  // Backups on the sequence number's committee prepare; listeners only watch.
  if (LeaderOf(seq, view_) != config_.self_index && roles_.At(seq).Votes(config_.self_index)) {
    wire::Envelope env;
    wire::Prepare* p = env.mutable_prepare();
    p->set_view(view_);
    p->set_seq(seq);
    p->set_digest(std::string(digest.view()));
    p->set_replica(identity_.self());
    if (config_.defend) p->set_leader_signature(slot.pre_prepare->env.pre_prepare().header_signature());
    slot.own_prepare = Seal(std::move(env), identity_, Auth::MacGroup(&config_.members), out.ops);
    out.Send(slot.own_prepare, kToGroup);
    if (slot.prepares.Mark(config_.self_index)) slot.prepares.SetMatch(config_.self_index);
  }
  if (seq == last_executed_ + 1) ++repair_.next_slot_progress;
  Advance(seq, slot, now, out);
  ArmStatusTimer(now, out);
  // A proposal we accepted must execute in time, or its leader is suspect (see AwaitsProposal).
  if (seq > last_executed_ && LeaderOf(seq, view_) != config_.self_index) StartWaiting(now, out);
}

PbftSlot& PbftReplica::SlotInView(uint64_t seq) {
  Slot& slot = SlotFor(seq);
  if (slot.view != view_) {
    // Proposal and votes of an older view do not count in this one; P and Q survive.
    slot.view = view_;
    slot.pre_prepare = nullptr;
    slot.own_prepare = slot.own_commit = nullptr;
    slot.commit_msgs.clear();
    slot.prepares = {};
    slot.commits = {};
    slot.prepared = slot.commit_sent = slot.committed = false;
  }
  return slot;
}

void PbftReplica::Vote(VoteSet& votes, uint32_t index, const Digest& d, const Slot& slot) {
  if (!votes.Mark(index)) return;
  if (!slot.pre_prepare) {
    votes.early.push_back({index, d});
  } else if (d == slot.digest) {
    votes.SetMatch(index);
  } else {
    votes.SetConflict(index);
  }
}

void PbftReplica::OnVote(TimeNs now, const MessagePtr& m, Effects& out) {
  const bool is_prepare = m->type == MsgType::kPrepare;
  const uint64_t view = m->view, seq = m->seq;  // decoded once into the header
  const uint32_t replica = m->voter;
  // Late votes (for executed sequence numbers) and votes of other views are normal; ignore them.
  // (The leader's COMMIT for a slot decided here is the pace monitor's sample even after the slot
  // was garbage-collected: a slow leader's come late.)
  if (view != view_ || view_changing_ || !InWindow(seq)) {
    if (!is_prepare && config_.defend) NoteLeaderCommit(now, m, /*authenticated=*/false, out);
    return;
  }
  int index = members_.Of(m->sender);
  // (The leader proposes and never sends PREPAREs: a PREPARE of its is not counted, see Advance.)
  if (index < 0 || replica != m->sender || !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  if (OutOfOrder(view, seq)) return;
  if (!is_prepare && config_.defend) NoteLeaderCommit(now, m, /*authenticated=*/true, out);
  Slot& slot = SlotInView(seq);
  if (config_.defend) {
    if (is_prepare) {
      CheckPrepareConflict(now, slot, m, out);
    } else if (slot.commits.Has(static_cast<uint32_t>(index))) {
      CheckCommitConflict(now, slot, m, out);
    }
    if (slot.view != view_) return;  // the proof changed the view
  }
  if (!is_prepare && !slot.commits.Has(static_cast<uint32_t>(index))) slot.commit_msgs.push_back(m);
  Vote(is_prepare ? slot.prepares : slot.commits, index, m->vote_digest, slot);
  if (seq == last_executed_ + 1) ++repair_.next_slot_progress;
  ArmStatusTimer(now, out);
  Advance(seq, slot, now, out);
}

// Moves a slot as far as its votes allow: prepared -> send COMMIT; committed -> execute.
void PbftReplica::Advance(uint64_t seq, Slot& slot, TimeNs now, Effects& out) {
  if (!slot.pre_prepare || slot.view != view_ || !roles_.Known(seq)) return;
  // Quorums are counted over the sequence number's committee (everyone without reputation).
  const RoleEpoch& roles = roles_.At(seq);
  const uint32_t m = roles.size();
  const uint32_t leader = roles.Leader(view_);
  const uint32_t prepares = roles.Count(slot.prepares.match) - (slot.prepares.Matches(leader) ? 1 : 0);
  // Monitoring the leader: f+1 committee members prepared another digest for this slot, so at least
  // one correct member got another PRE-PREPARE from the leader: it equivocated. Replace it now
  // rather than when the request timer runs out.
  if (!slot.prepared && !view_changing_ &&
      roles.Count(slot.prepares.conflict) - (slot.prepares.conflict.size() > leader / 64 &&
                                             (slot.prepares.conflict[leader / 64] >> (leader % 64)) & 1) >=
          config_.f + 1) {
    ++rep_.equivocations_seen;
    return RequestViewChange(view_ + 1);
  }
  // A replica that executed this sequence number in an earlier view knows it is decided: the new
  // view can only re-propose that batch (view-change safety). Replicas that were behind need its
  // COMMIT in this view, and the PREPAREs it would wait for may have been lost while nobody else
  // needs them (found by the swarm, seed 557 of --protocol=pbft).
  const bool decided_here = slot.executed && slot.executed_digest == slot.digest;
  if (!slot.prepared && (decided_here || prepares + config_.planted_quorum_shortfall >= PrepareQuorum(m, config_.f))) {
    slot.prepared = true;
    slot.has_prepared_claim = true;
    slot.prepared_view = view_;
    slot.prepared_digest = slot.digest;
    slot.prepared_batch = slot.pre_prepare;
  }
  if (slot.prepared && !slot.commit_sent && roles.Votes(config_.self_index)) {
    slot.commit_sent = true;
    wire::Envelope env;
    wire::Commit* c = env.mutable_commit();
    c->set_view(view_);
    c->set_seq(seq);
    c->set_digest(std::string(slot.digest.view()));
    c->set_replica(identity_.self());
    // Evidence: which members' PREPAREs for this digest we saw (bit i = member i).
    std::string bitmap((config_.members.size() + 7) / 8, '\0');
    for (uint32_t i = 0; i < config_.members.size(); ++i) {
      if (slot.prepares.Has(i)) bitmap[i / 8] = static_cast<char>(bitmap[i / 8] | (1 << (i % 8)));
    }
    c->set_prepare_evidence(std::move(bitmap));
    slot.own_commit = Seal(std::move(env), identity_,
                           config_.mac_commits ? Auth::MacGroup(&config_.members) : Auth::Signature(), out.ops);
    out.Send(slot.own_commit, kToGroup);
    if (slot.commits.Mark(config_.self_index)) slot.commits.SetMatch(config_.self_index);
  }
  // 2f+1 matching COMMITs mean at least f+1 correct replicas prepared this digest: it is decided,
  // even if this replica missed PREPAREs (lost, or it was behind).
  if (!slot.committed &&
      roles.Count(slot.commits.match) + config_.planted_quorum_shortfall >= CommitQuorum(m, config_.f)) {
    slot.committed = true;
    if (config_.defend) NoteDecided(now, seq, slot, out);
    ExecuteCommitted(now, out);
    if (seq > last_executed_ + 1) ArmGapStatusTimer(now, out);
  }
}

void PbftReplica::ExecuteCommitted(TimeNs now, Effects& out) {
  bool executed_any = false, waited_done = false;
  for (auto it = log_.find(last_executed_ + 1);
       it != log_.end() && it->first == last_executed_ + 1 && it->second.committed && it->second.view == view_;
       it = log_.find(last_executed_ + 1)) {
    const uint64_t seq = it->first;
    it->second.executed = true;
    it->second.executed_digest = it->second.digest;
    const Slot& slot = it->second;
    Execution ex{seq, view_, slot.digest, 0};
    ClientLookaside records(clients_);
    // Deferred: ordered here, executed and answered by the global layer at this position. The
    // results are kept too: a cluster whose replicas all skipped the round by a global snapshot
    // can still answer from them.
    const uint64_t position = config_.defer_execution ? (seq - 1) * config_.global_clusters + config_.cluster + 1 : seq;
    const std::vector<RequestId>& requests = BatchRequestIds(*slot.pre_prepare);
    const std::vector<uint64_t>& results = BatchResults(*slot.pre_prepare, position);
    for (size_t i = 0; i < requests.size(); ++i) {
      const RequestId& r = requests[i];
      ClientRecord& rec = records[r.client];
      waited_done |= vc_.waiting.erase({r.client, r.timestamp}) > 0;
      if (!rec.Execute(r.timestamp)) continue;  // executed before: at most once
      ++ex.requests;
      proposer_.in_flight.erase({r.client, r.timestamp});
      const uint64_t result = results[i];
      batch_answers_.Add(r.client, r.timestamp, result);
      if (config_.defer_execution) continue;
      out.results.push_back({r.client, r.timestamp, result});
      SendReply(r.client, r.timestamp, result, out);
    }
    // Keep the results of the most recent requests only: memory stays bounded per client.
    batch_answers_.KeepIn([this](NodeId client) -> KeptAnswers& { return clients_[client].results; }, kKeptResults);
    if (config_.defer_execution) {
      // The decision and its certificate: our COMMIT (if we sent one) and others' matching ones.
      // (Committee members' only: a listener's COMMIT, which an honest one never sends, is no vote.)
      LocalDecision d{seq, view_, slot.digest, slot.pre_prepare, {}, slot.proposed_at};
      const RoleEpoch& roles = roles_.At(seq);
      if (slot.own_commit && roles.Votes(config_.self_index)) d.commits.push_back(slot.own_commit);
      for (const MessagePtr& c : slot.commit_msgs) {
        if (d.commits.size() >= CommitQuorum(roles.size(), config_.f)) break;
        int index = members_.Of(c->sender);
        if (Digest::FromBytes(c->env.commit().digest()) == slot.digest && roles.Votes(static_cast<uint32_t>(index))) {
          d.commits.push_back(c);
        }
      }
      outcome_.decided.push_back(std::move(d));
    }
    // The application state: a hash chain over every executed batch.
    std::string link(chain_.view());
    link.append(reinterpret_cast<const char*>(&seq), sizeof seq);
    link.append(slot.digest.view());
    chain_ = Sha256(link);
    out.ops.hashed_bytes += link.size();
    if (!config_.defer_execution) out.executed.push_back(ex);
    last_executed_ = seq;
    executed_any = true;
    if (config_.checkpoint_interval > 0 && seq % config_.checkpoint_interval == 0) TakeCheckpoint(now, seq, out);
  }
  if (executed_any) {
    OnProgress(now, waited_done, out);
    work_.propose = true;  // the window may have moved
  }
}

void PbftReplica::SendReply(NodeId client, uint64_t timestamp, uint64_t result, Effects& out) {
  out.Send(SealReply(view_, client, timestamp, result, identity_, out.ops), client);
}

std::string PbftReplica::Describe() const {
  std::string s = absl::StrFormat("view %d%s executed %d stable %d %s", view_, view_changing_ ? " (changing)" : "",
                                  last_executed_, ckpt_.stable_seq, IsPrimary() ? "primary" : "backup");
  if (IsPrimary()) absl::StrAppendFormat(&s, " proposed %d pending %d", proposer_.next_seq, proposer_.pending.size());
  uint64_t next = last_executed_ + 1;
  auto it = log_.find(next);
  uint32_t f = config_.f;
  if (view_changing_) {
    auto vcs = vc_.msgs.find(view_);
    absl::StrAppendFormat(&s, " phase view-change waiting for NEW-VIEW %d from replica %d (holds %d VIEW-CHANGEs)",
                          view_, primary(), vcs == vc_.msgs.end() ? 0 : vcs->second.size());
  } else if (ckpt_.fetching_seq > 0) {
    absl::StrAppendFormat(&s, " phase state-transfer waiting for STATE of checkpoint %d", ckpt_.fetching_seq);
  } else if (it == log_.end() || !it->second.pre_prepare || it->second.view != view_) {
    absl::StrAppendFormat(&s, " seq %d phase idle waiting for PRE-PREPARE from replica %d", next, primary());
  } else if (!it->second.commit_sent) {
    absl::StrAppendFormat(&s, " seq %d phase pre-prepared waiting for PREPAREs (%d of %d)", next,
                          Matching(next, it->second.prepares), PrepareQuorum(roles_.At(next).size(), f));
  } else {
    absl::StrAppendFormat(&s, " seq %d phase prepared waiting for COMMITs (%d of %d)", next,
                          Matching(next, it->second.commits), CommitQuorum(roles_.At(next).size(), f));
  }
  if (!vc_.waiting.empty()) absl::StrAppendFormat(&s, "; %d client requests waiting", vc_.waiting.size());
  if (out_of_order_dropped_ > 0) {
    absl::StrAppendFormat(&s, "; dropped %d messages not for (view %d, seq %d) [legacy drop_out_of_order]",
                          out_of_order_dropped_, view_, next);
  }
  return s;
}

}  // namespace geopbft
