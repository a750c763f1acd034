// PBFT checkpoints, garbage collection and state transfer.
//
// Every K executed sequence numbers a replica signs the digest of its state (the hash chain of
// executed batches and the client table). 2f+1 matching CHECKPOINTs make the checkpoint stable:
// the low watermark moves up and everything at or below it is forgotten, so memory is bounded by
// the window, not by the length of the run. A replica that sees a stable certificate above what it
// executed, and cannot catch up from its buffered messages, fetches the state with its proof.
#include <algorithm>

#include "absl/strings/str_format.h"
#include "protocol/pbft_replica.h"
#include "protocol/quorum.h"

namespace geopbft {
std::string PbftReplica::SnapshotBytes(uint64_t seq) const {
  wire::StateSnapshot snap;
  snap.set_seq(seq);
  snap.set_chain(std::string(chain_.view()));
  for (const auto& [client, rec] : clients_) {  // ordered by client id: deterministic bytes
    wire::ClientState* c = snap.add_clients();
    c->set_client(client);
    c->set_low(rec.executed.low());
    rec.executed.ForEachAbove([c](uint64_t ts) { c->add_above(ts); });
  }
  return snap.SerializeAsString();
}

void PbftReplica::TakeCheckpoint(TimeNs now, uint64_t seq, Effects& out) {
  std::string bytes = SnapshotBytes(seq);
  Digest d = Sha256(bytes);
  out.ops.hashed_bytes += bytes.size();
  ckpt_.snapshots[seq] = std::move(bytes);
  wire::Envelope env;
  wire::Checkpoint* c = env.mutable_checkpoint();
  c->set_seq(seq);
  c->set_state_digest(std::string(d.view()));
  c->set_replica(identity_.self());
  MessagePtr m = Seal(std::move(env), identity_, Auth::Signature(), out.ops);
  out.Send(m, kToGroup);
  ckpt_.votes[seq][std::string(d.view())][config_.self_index] = m;
  MaybeStabilize(now, seq, out);
}

void PbftReplica::OnCheckpoint(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::Checkpoint& c = m->env.checkpoint();
  if (c.seq() <= ckpt_.stable_seq) return;  // already stable here
  int index = members_.Of(m->sender);
  if (index < 0 || c.replica() != m->sender || c.state_digest().size() != 32 ||
      (config_.checkpoint_interval > 0 && c.seq() % config_.checkpoint_interval != 0) ||
      !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  ckpt_.votes[c.seq()][c.state_digest()][static_cast<uint32_t>(index)] = m;
  // Bounded memory whatever peers send: forget the oldest sequence numbers first.
  while (ckpt_.votes.size() > kMaxCheckpointSeqs) ckpt_.votes.erase(ckpt_.votes.begin());
  MaybeStabilize(now, c.seq(), out);
}

void PbftReplica::MaybeStabilize(TimeNs now, uint64_t seq, Effects& out) {
  if (StabilizeIfOwn(seq, out)) return;
  auto votes = ckpt_.votes.find(seq);
  if (seq <= ckpt_.stable_seq || votes == ckpt_.votes.end()) return;
  for (const auto& [digest, signers] : votes->second) {
    if (signers.size() < CommitQuorum(members_.size(), config_.f)) continue;
    // A quorum proved a state we have not reached (or do not have): catch up.
    if (config_.drop_out_of_order || ckpt_.fetching_seq >= seq) return;
    ckpt_.fetching_seq = seq;
    ckpt_.fetch_attempt = 0;
    if (seq >= last_executed_ + config_.window) {
      RequestState(now, out);  // too far behind to catch up from buffered messages
    } else {
      // Give the buffered messages a chance first: most lags close on their own.
      timers_.Set(kFetchTimer, now + config_.request_timeout / 4, out);
    }
    return;
  }
}

// 2f+1 signed CHECKPOINTs for `seq` match our own state there: the checkpoint is stable.
bool PbftReplica::StabilizeIfOwn(uint64_t seq, Effects& out) {
  auto votes = ckpt_.votes.find(seq);
  if (seq <= ckpt_.stable_seq || votes == ckpt_.votes.end()) return false;
  for (const auto& [digest, signers] : votes->second) {
    if (signers.size() < CommitQuorum(members_.size(), config_.f)) continue;
    auto own = ckpt_.snapshots.find(seq);
    if (own != ckpt_.snapshots.end() && Digest::FromBytes(digest) == Sha256(own->second)) {
      // Our own state matches a quorum: the checkpoint is stable.
      ckpt_.stable_seq = seq;
      ckpt_.stable_digest = Digest::FromBytes(digest);
      ckpt_.stable_snapshot = own->second;
      ckpt_.stable_proof.clear();
      ckpt_.stable_proof_msgs.clear();
      for (const auto& [index, msg] : signers) {
        if (ckpt_.stable_proof.size() == CommitQuorum(members_.size(), config_.f)) break;
        ckpt_.stable_proof.push_back(msg->env);
        ckpt_.stable_proof_msgs.push_back(msg);
      }
      CollectGarbage(seq);
      if (ckpt_.fetching_seq != 0 && ckpt_.fetching_seq <= seq) {
        ckpt_.fetching_seq = 0;
        timers_.Cancel(kFetchTimer, out);
      }
      work_.window_moved = true;  // the high watermark moved
      return true;
    }
  }
  return false;
}

void PbftReplica::CollectGarbage(uint64_t seq) {
  log_.erase(log_.begin(), log_.upper_bound(seq));
  ckpt_.votes.erase(ckpt_.votes.begin(), ckpt_.votes.upper_bound(seq));
  ckpt_.snapshots.erase(ckpt_.snapshots.begin(), ckpt_.snapshots.upper_bound(seq));
  // Proposals that waited for roles of sequence numbers now below the stable checkpoint never
  // matter again (they were kept until the roles came, and lingered when a checkpoint or state
  // transfer came first).
  rep_.future_proposals.erase(rep_.future_proposals.begin(), rep_.future_proposals.upper_bound(seq));
}

void PbftReplica::RequestState(TimeNs now, Effects& out) {
  if (ckpt_.fetching_seq == 0 || ckpt_.stable_seq >= ckpt_.fetching_seq) {
    ckpt_.fetching_seq = 0;
    return;
  }
  if (last_executed_ >= ckpt_.fetching_seq) {
    // Caught up by normal execution; the checkpoint stabilizes when our own CHECKPOINT counts.
    StabilizeIfOwn(ckpt_.fetching_seq, out);
    if (ckpt_.stable_seq >= ckpt_.fetching_seq) return;
  }
  // Ask the members in turn (any replica whose stable checkpoint is high enough can answer).
  uint32_t n = static_cast<uint32_t>(config_.members.size());
  uint32_t target = (config_.self_index + 1 + ckpt_.fetch_attempt % (n - 1)) % n;
  ++ckpt_.fetch_attempt;
  wire::Envelope env;
  env.mutable_fetch_state()->set_seq(ckpt_.fetching_seq);
  env.mutable_fetch_state()->set_replica(identity_.self());
  NodeId to = config_.members[target];
  out.Send(Seal(std::move(env), identity_, Auth::MacTo(to), out.ops), to);
  timers_.Set(kFetchTimer, now + config_.request_timeout / 2, out);
}

void PbftReplica::OnFetchState(const MessagePtr& m, Effects& out) {
  const wire::FetchState& f = m->env.fetch_state();
  if (members_.Of(m->sender) < 0 || f.replica() != m->sender ||
      !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  if (ckpt_.stable_seq == 0 || ckpt_.stable_seq < f.seq()) return;  // nothing to offer yet
  SendStableState(m->sender, out);
}

void PbftReplica::SendStableState(NodeId to, Effects& out) {
  wire::Envelope env;
  wire::StateTransfer* st = env.mutable_state_transfer();
  st->mutable_snapshot()->ParseFromString(ckpt_.stable_snapshot);
  for (const wire::Envelope& proof : ckpt_.stable_proof) *st->add_proof() = proof;
  out.Send(Seal(std::move(env), identity_, Auth::MacTo(to), out.ops), to);
}

void PbftReplica::OnStateTransfer(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::StateTransfer& st = m->env.state_transfer();
  if (members_.Of(m->sender) < 0 || !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  const wire::StateSnapshot& snap = st.snapshot();
  if (snap.seq() <= last_executed_ || snap.seq() <= ckpt_.stable_seq || config_.drop_out_of_order) return;
  std::string bytes = snap.SerializeAsString();
  Digest d = Sha256(bytes);
  out.ops.checked_bytes += bytes.size();
  if (snap.chain().size() != 32 ||
      !ValidateCheckpointProof(st.proof(), snap.seq(), d, group(), identity_, out.ops).ok()) {
    ++out.rejected;
    return;
  }
  // Install the certified state.
  chain_ = Digest::FromBytes(snap.chain());
  clients_.clear();
  for (const wire::ClientState& c : snap.clients()) {
    ClientRecord& rec = clients_[c.client()];
    rec.executed.Reset(c.low(), c.above());
  }
  last_executed_ = snap.seq();
  ckpt_.stable_seq = snap.seq();
  ckpt_.stable_digest = d;
  ckpt_.stable_snapshot = std::move(bytes);
  ckpt_.stable_proof.assign(st.proof().begin(), st.proof().end());
  ckpt_.stable_proof_msgs.clear();
  CollectGarbage(ckpt_.stable_seq);
  proposer_.next_seq = std::max(proposer_.next_seq, ckpt_.stable_seq);
  for (auto it = vc_.waiting.begin(); it != vc_.waiting.end();) {
    it = ExecutedHere(it->first.first, it->first.second) ? vc_.waiting.erase(it) : std::next(it);
  }
  ForgetExecutedProposals();
  if (ckpt_.fetching_seq <= ckpt_.stable_seq) {
    ckpt_.fetching_seq = 0;
    timers_.Cancel(kFetchTimer, out);
  }
  ++ckpt_.state_transfers;
  out.state_transferred_to = ckpt_.stable_seq;
  if (config_.defer_execution) outcome_.state_transferred_to = ckpt_.stable_seq;
  AdoptDeferredProposals(now, out);
  // A primary that fell behind stopped proposing at the old high watermark; requests that came in
  // since were queued without waking it, and their retransmissions are duplicates. The window
  // moved: propose (and adopt the proposals kept from above it).
  work_.window_moved = true;
  ExecuteCommitted(now, out);  // buffered slots above the checkpoint may be ready
  OnProgress(now, true, out);
  // What lies above the checkpoint was probably dropped while we were behind: ask for it now.
  SendStatus(out);
}

bool PbftReplica::ExecutedHere(NodeId client, uint64_t timestamp) const {
  auto rec = clients_.find(client);
  return rec != clients_.end() && rec->second.Executed(timestamp);
}

// A state transfer executed requests this replica had queued or proposed: as primary it must not
// propose them again, and they must not stay in flight for good (that set only shrinks at execution).
void PbftReplica::ForgetExecutedProposals() {
  std::erase_if(proposer_.pending, [&](const MessagePtr& m) {
    return ExecutedHere(m->env.request().client(), m->env.request().timestamp());
  });
  for (auto it = proposer_.in_flight.begin(); it != proposer_.in_flight.end();) {
    if (ExecutedHere(it->first, it->second)) {
      proposer_.in_flight.erase(it++);
    } else {
      ++it;
    }
  }
}

}  // namespace geopbft
