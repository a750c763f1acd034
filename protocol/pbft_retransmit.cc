// Repair of lost messages. Links lose messages, and PBFT's normal case sends everything once; a
// replica that misses a PRE-PREPARE or too many votes would otherwise wait for a checkpoint and a
// state transfer (or, if too many replicas miss something, for a view change).
//
// A replica that knows of work above what it executed but made no progress for a quarter of the
// request timeout (nothing executed, nothing new for the next sequence number) broadcasts STATUS (view, last executed).
// The f+1 members after it (so at least one correct replica) resend what it misses: the primary's PRE-PREPARE (its
// authenticator holds a MAC for every member, so any replica can forward it) and the signed COMMITs they hold, enough
// to execute; or the NEW-VIEW of a view it missed; or a state transfer when it is below their stable checkpoint.
#include <algorithm>

#include "protocol/pbft_replica.h"
#include "protocol/quorum.h"

namespace geopbft {
namespace {
constexpr uint64_t kSlotsPerStatus = 16;  // bounded work per STATUS
}  // namespace

void PbftReplica::ArmStatusTimer(TimeNs now, Effects& out, bool group_ahead) {
  if (timers_.Armed(kStatusTimer) || config_.drop_out_of_order) return;
  bool work_above =
      group_ahead || log_.upper_bound(last_executed_) != log_.end() || !vc_.waiting.empty() || view_changing_;
  if (!work_above) return;
  repair_.mark = last_executed_;
  repair_.progress_mark = repair_.next_slot_progress;
  timers_.Set(kStatusTimer, now + std::max<TimeNs>(1, config_.request_timeout / 4), out);
}

// A later sequence number committed while the next one to execute did not: something of it was
// lost (the group moved on). Ask soon, not a quarter of the request timeout later, or a replica on
// a lossy link falls further behind with every loss.
void PbftReplica::ArmGapStatusTimer(TimeNs now, Effects& out) {
  if (repair_.gap_armed || config_.drop_out_of_order) return;
  repair_.mark = last_executed_;
  repair_.progress_mark = repair_.next_slot_progress;
  repair_.gap_armed = true;
  const TimeNs base = std::max<TimeNs>(1, config_.request_timeout / 40);
  const TimeNs delay = std::min(base << std::min<uint32_t>(repair_.gap_rounds, 4), config_.request_timeout / 4);
  timers_.Set(kStatusTimer, now + std::max(base, delay), out);
}

// A decided slot above the next one to execute (in this view): the group moved on without us.
bool PbftReplica::GapOpen() const {
  for (auto it = log_.upper_bound(last_executed_ + 1); it != log_.end(); ++it) {
    if (it->second.committed && it->second.view == view_) return true;
  }
  return false;
}

void PbftReplica::OnStatusTimer(TimeNs now, Effects& out) {
  const bool gap = repair_.gap_armed;
  repair_.gap_armed = false;
  if (view_changing_) {
    // VIEW-CHANGEs lost to a partition or a lossy link are sent by nobody else: repeat ours until
    // the view is installed. (The new primary needs a quorum of them; those who installed the view
    // answer with its NEW-VIEW.) Without this, a view change short of its quorum when the network
    // heals waits for the doubled view-change timeout, and then again for the next.
    auto vcs = vc_.msgs.find(view_);
    if (vcs != vc_.msgs.end()) {
      auto own = vcs->second.find(config_.self_index);
      if (own != vcs->second.end()) out.Send(own->second, kToGroup);
    }
  }
  // A slot still gathering votes is slow, not lost: ask only when nothing new came for the next
  // slot during the whole period. Unless its PRE-PREPARE is missing while a later slot decided, or
  // while votes for it or later proposals came: proposals travel in order, so it was lost (or
  // dropped above our window before a checkpoint moved it), and votes (even those other replicas'
  // repairs cause) cannot make up for it. (Found by the swarm, seed 1005774 of --protocol=pbft:
  // seven replicas, two faulty; three dropped a PRE-PREPARE just above their window, every slot
  // needed them, and the votes the stuck others resent every period counted as progress: no
  // STATUS from them, nothing executed for 2 s, until a view change.)
  const bool moved = last_executed_ != repair_.mark;
  auto next = log_.find(last_executed_ + 1);
  const bool proposal_missing = next == log_.end() || !next->second.pre_prepare;
  const bool proposal_lost = proposal_missing && (gap || log_.upper_bound(last_executed_) != log_.end());
  const bool stuck = !moved && (proposal_lost || repair_.next_slot_progress == repair_.progress_mark);
  if (stuck && (log_.upper_bound(last_executed_) != log_.end() || !vc_.waiting.empty() || repair_.peer_ahead)) {
    SendStatus(out);
  }
  repair_.peer_ahead = false;
  // Behind a gap, keep watching at the short period (doubling while nothing executes) rather than
  // the ordinary one: a slot short of its quorum (its PRE-PREPARE lost to some, a PREPARE to others)
  // collects the votes still on their way and then waits, and a late vote in the first period must
  // not postpone the request to a quarter of the request timeout. (Found at 2% loss: a cluster's
  // slot one COMMIT short while every later slot decided held all of GeoBFT for half a second.)
  if (gap && !view_changing_ && GapOpen()) {
    repair_.gap_rounds = moved ? 0 : repair_.gap_rounds + 1;
    ArmGapStatusTimer(now, out);
    return;
  }
  repair_.gap_rounds = 0;
  ArmStatusTimer(now, out);
}

void PbftReplica::SendStatus(Effects& out) {
  if (config_.drop_out_of_order) return;
  wire::Envelope env;
  wire::Status* st = env.mutable_status();
  st->set_view(view_);
  st->set_last_executed(last_executed_);
  st->set_replica(identity_.self());
  st->set_stable_seq(ckpt_.stable_seq);
  out.Send(Seal(std::move(env), identity_, Auth::MacGroup(&config_.members), out.ops), kToGroup);
}

void PbftReplica::OnStatus(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::Status& st = m->env.status();
  int index = members_.Of(m->sender);
  if (index < 0 || st.replica() != m->sender || !CheckAuth(*m, identity_, config_.self_index, out.ops)) {
    ++out.rejected;
    return;
  }
  // The f+1 members following the sender resend what costs most (proposals, certificates, state):
  // one correct answer is enough. Every member resends its own votes, which only it can.
  uint32_t n = static_cast<uint32_t>(config_.members.size());
  uint32_t distance = (config_.self_index + n - static_cast<uint32_t>(index)) % n;
  bool follower = distance >= 1 && distance <= config_.f + 1;
  if (st.view() < view_) {
    if (follower && vc_.last_new_view) out.Send(vc_.last_new_view, m->sender);
    return;
  }
  if (st.view() > view_) {
    // The sender is in a view we never reached: its NEW-VIEW, or the VIEW-CHANGEs that would have
    // moved us, were lost (to a partition, say). Ask with our own STATUS, which the members after
    // us answer with that NEW-VIEW; otherwise we wait out our view-change timer, doubled with
    // every view we tried alone. (Found by the swarm, seed 4000006 of the recovery bound: six
    // replicas, two cut off until 4.09 s while the rest moved to view 3; its primary was silent,
    // so view 3 needed them, and they came back only when their own 4 s timer fired at 7.8 s.)
    repair_.peer_ahead = true;
    ArmStatusTimer(now, out, true);
    return;
  }
  if (view_changing_) return;
  if (st.last_executed() >= last_executed_ && log_.upper_bound(last_executed_) == log_.end()) {
    // The sender is stuck with work above a position we share or are behind: ask too, or a proposal
    // lost to us alone is never resent (found by the swarm, seed 315 of --protocol=geobft).
    repair_.peer_ahead = true;
    ArmStatusTimer(now, out, true);
  }
  if (follower && st.last_executed() < ckpt_.stable_seq && ckpt_.stable_seq > 0) {
    SendStableState(m->sender, out);  // it is below what we garbage-collected
  } else if (st.stable_seq() < ckpt_.stable_seq) {
    // It executed up to our stable checkpoint but missed CHECKPOINTs (lost): its low watermark is
    // stuck, and with it every proposal above its window. The signed proof moves it. (Every member
    // that has it answers, not only the followers: they may be stuck the same way.)
    for (const MessagePtr& c : ckpt_.stable_proof_msgs) {
      if (c->sender != m->sender) out.Send(c, m->sender);
    }
  }
  // Our own CHECKPOINTs above the sender's stable one, up to what it executed: like our votes, only
  // we can resend them, and without them a checkpoint short of its quorum (n - f when n > 3f + 1)
  // never becomes stable and the window stays full. (Found by the swarm, seed 2000407 of
  // --protocol=pbft: five replicas, two cut off as the group took checkpoint 2000; each side kept
  // only its own side's CHECKPOINTs, and nothing executed again.)
  for (auto it = ckpt_.votes.upper_bound(std::max(st.stable_seq(), ckpt_.stable_seq));
       it != ckpt_.votes.end() && it->first <= st.last_executed(); ++it) {
    for (const auto& [digest, signers] : it->second) {
      auto own = signers.find(config_.self_index);
      if (own != signers.end()) out.Send(own->second, m->sender);
    }
  }
  ResendSlots(st, follower, m->sender, out);
}

// The slots above what a STATUS's sender executed, up to kSlotsPerStatus: our own votes (only we
// can resend them), and from a follower the proposal and a commit certificate of each decided one.
void PbftReplica::ResendSlots(const wire::Status& st, bool follower, NodeId to, Effects& out) {
  uint64_t from = std::max(st.last_executed(), ckpt_.stable_seq) + 1;
  uint64_t slots = 0;
  for (auto it = log_.lower_bound(from); it != log_.end() && slots < kSlotsPerStatus; ++it) {
    const PbftSlot& slot = it->second;
    if (slot.view != view_ || !slot.pre_prepare) continue;
    ++slots;
    if (slot.own_prepare) out.Send(slot.own_prepare, to);
    if (slot.own_commit) out.Send(slot.own_commit, to);
    if (!follower) continue;
    if (!slot.pre_prepare->env.macs().empty()) {
      out.Send(slot.pre_prepare, to);
    } else if (vc_.last_new_view && slots == 1) {
      out.Send(vc_.last_new_view, to);  // a re-proposal: its proof is the NEW-VIEW
    }
    if (!slot.committed) continue;
    // A decided slot: forward a commit certificate (2f+1 signed COMMITs), enough to execute.
    uint32_t commits = slot.own_commit ? 1 : 0;
    for (const MessagePtr& c : slot.commit_msgs) {
      if (commits >= CommitQuorum(members_.size(), config_.f)) break;
      if (c->sender == to || Digest::FromBytes(c->env.commit().digest()) != slot.digest) continue;
      out.Send(c, to);
      ++commits;
    }
  }
}

}  // namespace geopbft
