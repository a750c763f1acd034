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
    c->set_low(rec.executed.low);
    for (uint64_t ts : rec.executed.above) c->add_above(ts);
  }
  return snap.SerializeAsString();
}

void PbftReplica::TakeCheckpoint(TimeNs now, uint64_t seq, Effects& out) {
  std::string bytes = SnapshotBytes(seq);
  Digest d = Sha256(bytes);
  out.ops.hashed_bytes += bytes.size();
  snapshots_[seq] = std::move(bytes);
  wire::Envelope env;
  wire::Checkpoint* c = env.mutable_checkpoint();
  c->set_seq(seq);
  c->set_state_digest(std::string(d.view()));
  c->set_replica(identity_.self());
  MessagePtr m = Seal(std::move(env), identity_, Auth::Signature(), out.ops);
  out.Send(m, kToGroup);
  checkpoint_votes_[seq][std::string(d.view())][config_.self_index] = m;
  MaybeStabilize(now, seq, out);
}

void PbftReplica::OnCheckpoint(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::Checkpoint& c = m->env.checkpoint();
  if (c.seq() <= stable_seq_) return;  // already stable here
  int index = IndexOf(m->sender);
  if (index < 0 || c.replica() != m->sender || c.state_digest().size() != 32 ||
      (config_.checkpoint_interval > 0 && c.seq() % config_.checkpoint_interval != 0) ||
      !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  checkpoint_votes_[c.seq()][c.state_digest()][static_cast<uint32_t>(index)] = m;
  // Bounded memory whatever peers send: forget the oldest sequence numbers first.
  while (checkpoint_votes_.size() > kMaxCheckpointSeqs) checkpoint_votes_.erase(checkpoint_votes_.begin());
  MaybeStabilize(now, c.seq(), out);
}

void PbftReplica::MaybeStabilize(TimeNs now, uint64_t seq, Effects& out) {
  auto votes = checkpoint_votes_.find(seq);
  if (seq <= stable_seq_ || votes == checkpoint_votes_.end()) return;
  for (const auto& [digest, signers] : votes->second) {
    if (signers.size() < CommitQuorum(n_, config_.f)) continue;
    auto own = snapshots_.find(seq);
    if (own != snapshots_.end() && Digest::FromBytes(digest) == Sha256(own->second)) {
      // Our own state matches a quorum: the checkpoint is stable.
      stable_seq_ = seq;
      stable_digest_ = Digest::FromBytes(digest);
      stable_snapshot_ = own->second;
      stable_proof_.clear();
      stable_proof_msgs_.clear();
      for (const auto& [index, msg] : signers) {
        if (stable_proof_.size() == CommitQuorum(n_, config_.f)) break;
        stable_proof_.push_back(msg->env);
        stable_proof_msgs_.push_back(msg);
      }
      CollectGarbage(seq);
      if (fetching_seq_ != 0 && fetching_seq_ <= seq) {
        fetching_seq_ = 0;
        out.CancelTimer(kFetchTimer);
      }
      AdoptDeferredProposals(now, out);  // the high watermark moved
      TryPropose(now, out);
      return;
    }
    // A quorum proved a state we have not reached (or do not have): catch up.
    if (config_.drop_out_of_order || fetching_seq_ >= seq) return;
    fetching_seq_ = seq;
    fetch_attempt_ = 0;
    if (seq >= last_executed_ + config_.window) {
      RequestState(now, out);  // too far behind to catch up from buffered messages
    } else {
      // Give the buffered messages a chance first: most lags close on their own.
      out.SetTimer(kFetchTimer, now + config_.request_timeout / 4);
    }
    return;
  }
}

void PbftReplica::CollectGarbage(uint64_t seq) {
  log_.erase(log_.begin(), log_.upper_bound(seq));
  checkpoint_votes_.erase(checkpoint_votes_.begin(), checkpoint_votes_.upper_bound(seq));
  snapshots_.erase(snapshots_.begin(), snapshots_.upper_bound(seq));
  // Proposals that waited for roles of sequence numbers now below the stable checkpoint never
  // matter again (they were kept until the roles came, and lingered when a checkpoint or state
  // transfer came first).
  future_proposals_.erase(future_proposals_.begin(), future_proposals_.upper_bound(seq));
}

void PbftReplica::RequestState(TimeNs now, Effects& out) {
  if (fetching_seq_ == 0 || stable_seq_ >= fetching_seq_) {
    fetching_seq_ = 0;
    return;
  }
  if (last_executed_ >= fetching_seq_) {
    // Caught up by normal execution; the checkpoint stabilizes when our own CHECKPOINT counts.
    MaybeStabilize(now, fetching_seq_, out);
    if (stable_seq_ >= fetching_seq_) return;
  }
  // Ask the members in turn (any replica whose stable checkpoint is high enough can answer).
  uint32_t n = static_cast<uint32_t>(config_.members.size());
  uint32_t target = (config_.self_index + 1 + fetch_attempt_ % (n - 1)) % n;
  ++fetch_attempt_;
  wire::Envelope env;
  env.mutable_fetch_state()->set_seq(fetching_seq_);
  env.mutable_fetch_state()->set_replica(identity_.self());
  NodeId to = config_.members[target];
  out.Send(Seal(std::move(env), identity_, Auth::MacTo(to), out.ops), to);
  out.SetTimer(kFetchTimer, now + config_.request_timeout / 2);
}

void PbftReplica::OnFetchState(const MessagePtr& m, Effects& out) {
  const wire::FetchState& f = m->env.fetch_state();
  if (IndexOf(m->sender) < 0 || f.replica() != m->sender || !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  if (stable_seq_ == 0 || stable_seq_ < f.seq()) return;  // nothing to offer yet
  SendStableState(m->sender, out);
}

void PbftReplica::SendStableState(NodeId to, Effects& out) {
  wire::Envelope env;
  wire::StateTransfer* st = env.mutable_state_transfer();
  st->mutable_snapshot()->ParseFromString(stable_snapshot_);
  for (const wire::Envelope& proof : stable_proof_) *st->add_proof() = proof;
  out.Send(Seal(std::move(env), identity_, Auth::MacTo(to), out.ops), to);
}

void PbftReplica::OnStateTransfer(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::StateTransfer& st = m->env.state_transfer();
  if (IndexOf(m->sender) < 0 || !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  const wire::StateSnapshot& snap = st.snapshot();
  if (snap.seq() <= last_executed_ || snap.seq() <= stable_seq_ || config_.drop_out_of_order) return;
  std::string bytes = snap.SerializeAsString();
  Digest d = Sha256(bytes);
  out.ops.hashed_bytes += bytes.size();
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
    rec.executed.low = c.low();
    rec.executed.above.insert(c.above().begin(), c.above().end());
  }
  last_executed_ = snap.seq();
  stable_seq_ = snap.seq();
  stable_digest_ = d;
  stable_snapshot_ = std::move(bytes);
  stable_proof_.assign(st.proof().begin(), st.proof().end());
  stable_proof_msgs_.clear();
  CollectGarbage(stable_seq_);
  next_seq_ = std::max(next_seq_, stable_seq_);
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    auto rec = clients_.find(it->first.first);
    it = rec != clients_.end() && rec->second.Executed(it->first.second) ? waiting_.erase(it) : std::next(it);
  }
  if (fetching_seq_ <= stable_seq_) {
    fetching_seq_ = 0;
    out.CancelTimer(kFetchTimer);
  }
  ++state_transfers_;
  out.state_transferred_to = stable_seq_;
  AdoptDeferredProposals(now, out);
  TryExecute(now, out);  // buffered slots above the checkpoint may be ready
  OnProgress(now, true, out);
  // What lies above the checkpoint was probably dropped while we were behind: ask for it now.
  SendStatus(out);
}

}  // namespace geopbft
