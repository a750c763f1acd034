// Reputation scores (DESIGN §4): every replica keeps a 0-100 score of every replica of every
// cluster, computed from committed data only, so all correct replicas hold the same table at the
// same round and therefore choose the same committees and representatives.
//
// Inputs, both inside committed batches:
//  - consensus evidence (wire::VoteEvidence): the signed COMMITs for an earlier sequence number of
//    the batch's cluster, each listing the PREPAREs its sender saw. For each committee member the
//    outcome is: against (it signed a COMMIT for another digest), agree (its COMMIT is there, or f+1
//    COMMITs list its PREPARE: at least one correct replica saw it, so f liars cannot frame it and
//    cannot vouch for it either), or miss.
//  - transaction evidence (wire::Request.answered): a client's report of which replicas answered
//    one of its earlier requests with the accepted result in time.
// Score = w x consensus part + (1 - w) x transaction part, each part in [0, cap]. Agreement earns a
// reward; the k-th miss of a streak costs min(k - forgiven, cap) x miss penalty, softened by a good
// history (a replica cut off for a while loses points steadily, not quadratically);
// a vote against costs a large fixed penalty. The MY_PBFT rule replaces the consensus arithmetic by
// the original implementation's (see my_pbft_scores.h) on its own 0-1000 scale.
//
// Defence (default rule only): committed proofs of misbehaviour bar their culprit for good, and a
// committed complaint certificate deposes the leader it accuses (penalty and a lead ban); seats and
// the lead change hands with hysteresis (Committee with `sitting`). See protocol/misbehaviour.h and
// protocol/pbft_defence.cc for how proofs and complaints come about.
#ifndef GEOPBFT_PROTOCOL_REPUTATION_H_
#define GEOPBFT_PROTOCOL_REPUTATION_H_

#include <cstdint>
#include <vector>

#include "protocol/message.h"
#include "protocol/messages.pb.h"
#include "protocol/my_pbft_scores.h"
#include "protocol/role_schedule.h"
#include "protocol/types.h"

namespace geopbft {

struct ReputationParams {
  enum class Rule { kDefault, kMyPbft };
  Rule rule = Rule::kDefault;
  double initial = 70;
  double consensus_weight = 0.5;
  double consensus_cap = 100;
  double transaction_cap = 100;
  double agree_reward = 2;
  double miss_penalty = 1;
  uint32_t forgiven_misses = 1;
  uint32_t miss_streak_cap = 5;  // a miss costs at most this many miss penalties
  double against_penalty = 25;
  double view_change_penalty = 20;
  double history_weight = 0.5;
  double history_decay = 0.95;
  double reply_reward = 1;
  double reply_penalty = 2;
  double eviction_threshold = 60;
  uint32_t reselect_every = 16;
  uint32_t committee_size = 0;  // 0: 3f+1
  // Defence (the default rule only; see DESIGN §4 and scenario.proto for the reasoning):
  double seat_margin = 10;                // hysteresis: a seat or the lead changes hands only for more than this
  double complaint_penalty = 20;          // a leader deposed by committed complaints loses this much ...
  uint64_t lead_ban_rounds = 1024;        // ... and may not lead for this many rounds (doubled each time)
  double complaint_lag_ms = 800;          // pace monitor (1): a round's proposal this late (median ...
  uint32_t complaint_rounds = 8;          // ... of this many rounds)
  double complaint_commit_lag_ms = 40;    // pace monitor (2): the leader's COMMITs this late (median ...
  uint32_t complaint_commit_slots = 128;  // ... over this many slots)
  bool Defends() const { return rule == Rule::kDefault; }
};

enum class VoteOutcome { kAgree, kMiss, kAgainst };

// One replica's standing.
struct PeerScore {
  double consensus = 0;
  double transaction = 0;
  uint32_t streak = 0;  // consecutive misses (or votes against)
  double record = 1;    // exponential average of agree = 1 / miss = 0
  // Defence: a committed proof bars for good (score 0, never on the committee while enough others
  // are, never representative); committed complaints ban from the lead until a round.
  bool barred = false;
  uint64_t barred_round = 0;
  uint64_t lead_ban_until = 0;
  uint32_t depositions = 0;
};

// A replica barred by a committed proof: who, and at which round (every honest replica the same).
struct Barred {
  uint32_t cluster = 0;
  NodeId replica = 0;
  uint64_t round = 0;
};

class ScoreBook {
 public:
  // `clusters[c]` = cluster c's members in order; `faults[c]` = its f.
  ScoreBook(ReputationParams params, std::vector<std::vector<NodeId>> clusters, std::vector<uint32_t> faults);

  // Applies a committed batch of cluster `c`: its vote evidence (judged under `roles_of(seq)`, the
  // roles that governed each recorded sequence number) and its clients' reply reports. Evidence for
  // sequence numbers already scored is ignored.
  // `replies`: the batch's reply reports, counted (TallyReplyReports; a shared message counts its
  // batch once for every receiver, see BatchReplyTally).
  template <typename RolesOf>
  void ApplyBatch(uint32_t c, uint64_t round, const wire::Batch& batch, RolesOf roles_of) {
    ApplyBatch(c, round, batch, TallyReplyReports(batch), roles_of);
  }
  template <typename RolesOf>
  void ApplyBatch(uint32_t c, uint64_t round, const wire::Batch& batch, const ReplyTally& replies, RolesOf roles_of) {
    // A proposal from a later view than the previous one: the leaders of the views in between
    // were replaced by their committee (re-proposals keep their first view; null requests have 0).
    if (batch.proposer_view() > last_view_[c]) {
      const RoleEpoch& roles = roles_of(round);
      for (uint64_t v = last_view_[c]; v < batch.proposer_view() && v < last_view_[c] + roles.size(); ++v) {
        Penalize(c, roles.Leader(v), params_.view_change_penalty);
      }
      last_view_[c] = batch.proposer_view();
    }
    for (const wire::VoteEvidence& ev : batch.evidence()) {
      if (ev.seq() <= scored_upto_[c]) continue;
      scored_upto_[c] = ev.seq();
      ApplyVotes(c, ev, roles_of(ev.seq()));
    }
    ApplyReplies(c, replies);
    if (params_.Defends()) ApplyAccusations(c, round, batch);
  }
  // Proofs bar their culprits; a complaint certificate deposes the leader it accuses (once per view).
  void ApplyAccusations(uint32_t c, uint64_t round, const wire::Batch& batch);
  bool IsBarred(uint32_t c, uint32_t i) const { return peers_[c][i].barred; }
  bool LeadBanned(uint32_t c, uint32_t i, uint64_t round) const {
    return peers_[c][i].barred || peers_[c][i].lead_ban_until > round;
  }
  const std::vector<Barred>& barred() const { return barred_; }
  uint64_t depositions() const { return depositions_; }
  void ApplyVotes(uint32_t c, const wire::VoteEvidence& ev, const RoleEpoch& roles);
  void ApplyReplies(uint32_t c, const ReplyTally& replies);
  // The outcome for each member of cluster c (index order) under the default rule's reading.
  std::vector<VoteOutcome> Judge(uint32_t c, const wire::VoteEvidence& ev, const RoleEpoch& roles) const;

  // Score of member i of cluster c: 0-100 (MY_PBFT: 0-1000).
  double Score(uint32_t c, uint32_t i) const;
  const PeerScore& Peer(uint32_t c, uint32_t i) const { return peers_[c][i]; }
  // The cluster's committee, best first: the top `size` by score (ties by index) among members at
  // or above the eviction threshold, topped up from the rest if too few remain.
  // `incumbent` (or -1) is the current representative's index: it stays first among its equals.
  std::vector<uint32_t> Committee(uint32_t c, int incumbent = -1) const;
  // The default rule's choice, with hysteresis: the `sitting` committee keeps its seats and the
  // incumbent the lead unless someone scores more than seat_margin better, or they are evicted,
  // barred or (the lead) banned. Barred and banned members lead last.
  std::vector<uint32_t> Committee(uint32_t c, int incumbent, const std::vector<uint32_t>& sitting,
                                  uint64_t round) const;
  // The proposer view of the latest proposal of cluster c (agreed: it is inside the batches).
  uint64_t last_view(uint32_t c) const { return last_view_[c]; }
  uint32_t CommitteeSize(uint32_t c) const;
  const ReputationParams& params() const { return params_; }
  uint32_t clusters() const { return static_cast<uint32_t>(peers_.size()); }
  uint32_t size(uint32_t c) const { return static_cast<uint32_t>(peers_[c].size()); }
  // Digest of every score (for the role-agreement checker and tests).
  uint64_t Fingerprint() const;
  // Cluster c's part of a global-layer snapshot, and back.
  void Save(uint32_t c, wire::ClusterState& out) const;
  void Load(uint32_t c, const wire::ClusterState& in);

 private:
  void Update(PeerScore& p, VoteOutcome o) const;
  void Penalize(uint32_t c, uint32_t i, double points);

  int IndexIn(uint32_t c, NodeId n) const;

  ReputationParams params_;
  std::vector<std::vector<NodeId>> members_;
  std::vector<uint32_t> faults_;
  std::vector<std::vector<PeerScore>> peers_;
  std::vector<MyPbftScores> my_pbft_;  // per cluster (MY_PBFT rule)
  std::vector<uint64_t> scored_upto_;
  std::vector<uint64_t> last_view_;            // latest proposer_view seen per cluster
  std::vector<uint64_t> next_complaint_view_;  // per cluster: complaints about earlier views are done
  std::vector<Barred> barred_;
  uint64_t depositions_ = 0;
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_REPUTATION_H_
