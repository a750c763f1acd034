// GeoBFT with reputation, its global side: who votes (committees from committed scores, chosen
// every reselect_every rounds and applied a window later), which certificates count, and the
// committee's watch on its representative's pace.
#include <algorithm>

#include "protocol/geobft_replica.h"
#include "protocol/quorum.h"

namespace geopbft {

uint32_t GeoBftReplica::VotersOf(uint32_t cluster) const {
  return rep_.scores ? rep_.scores->CommitteeSize(cluster) : static_cast<uint32_t>(config_.clusters[cluster].size());
}

Role GeoBftReplica::RoleOf(uint32_t c, uint32_t i) const {
  const RoleEpoch& e = rep_.cluster_roles[c].At(next_round_);
  if (config_.clusters[c][i] == rep_.representative[c]) return Role::kRepresentative;
  return e.Votes(i) ? Role::kCommittee : Role::kListener;
}

Role GeoBftReplica::FirstRoleOf(uint32_t c, uint32_t i) const {
  return rep_.cluster_roles[c].epochs().begin()->second.Votes(i) ? Role::kCommittee : Role::kListener;
}

// A certificate counts only if a commit quorum of the round's committee signed it (checked at
// execution, when the round's roles are surely known).
bool GeoBftReplica::SignedByCommittee(const Certificate& c, uint32_t cluster, uint64_t round) const {
  if (!rep_.scores || !c.share) return true;  // our own decision was counted over the committee
  const RoleEpoch& roles = rep_.cluster_roles[cluster].At(round);
  const auto& members = config_.clusters[cluster];
  uint32_t voters = 0;
  for (const wire::Envelope& e : c.share->env.global_share().commits()) {
    auto it = std::find(members.begin(), members.end(), e.sender());
    voters += it != members.end() && roles.Votes(static_cast<uint32_t>(it - members.begin()));
  }
  return voters >= CommitQuorum(roles.size(), Faults(cluster));
}

// Scores the round's batches (cluster order) and, every reselect_every rounds, chooses every
// cluster's roles from the scores; they apply `window` rounds later.
void GeoBftReplica::ScoreRound(TimeNs now, uint64_t round, const Round& r, Effects& out) {
  for (uint32_t cl = 0; cl < num_clusters_; ++cl) {
    const Certificate& c = r[cl];
    const wire::Batch& batch = BatchHeadOf(c);
    // The cluster's representative for this round: the leader of the view it committed in.
    NodeId rep = config_.clusters[cl][rep_.cluster_roles[cl].At(round).Leader(c.view)];
    if (rep != rep_.representative[cl] && round > 1) ++rep_.representative_changes;
    rep_.representative[cl] = rep;
    if (!rep_.scores) continue;
    rep_.scores->ApplyBatch(cl, round, batch, BatchReplyTally(CarrierOf(c)),
                            [&](uint64_t seq) -> const RoleEpoch& { return rep_.cluster_roles[cl].At(seq); });
    // Proofs against our own members, now committed: nobody needs to carry them any more.
    if (cl == config_.cluster) {
      for (const wire::MisbehaviourProof& p : batch.proofs()) {
        int i = LocalIndexOf(p.replica());
        if (i >= 0 && rep_.scores->IsBarred(cl, static_cast<uint32_t>(i))) local_.NoteBarred(p.replica());
      }
    }
  }
  if (!rep_.scores || round % config_.params.reselect_every != 0) return;
  const uint64_t window = config_.local.window;
  const uint64_t known = round + config_.params.reselect_every + window;
  uint64_t fingerprint = rep_.scores->Fingerprint();
  for (uint32_t cl = 0; cl < num_clusters_; ++cl) {
    const Certificate& c = r[cl];
    const wire::Batch& batch = BatchHeadOf(c);
    // The incumbent: the leader of the latest proposal's view under the roles of this round.
    // (Defence: under the latest epoch, the one the new epoch follows; the older rule reads this
    // round's.)
    const RoleEpoch& before =
        config_.params.Defends() ? rep_.cluster_roles[cl].epochs().rbegin()->second : rep_.cluster_roles[cl].At(round);
    int incumbent = static_cast<int>(before.Leader(rep_.scores->last_view(cl)));
    const std::vector<uint32_t>& sitting = rep_.cluster_roles[cl].epochs().rbegin()->second.ranked;
    // The new committee's best leads the view the cluster is in (the latest proposer view: a
    // re-proposed batch keeps an older one, and leading from it would hand the lead to another).
    const uint64_t base_view = config_.params.Defends() ? rep_.scores->last_view(cl) : batch.proposer_view();
    RoleEpoch e = RoleEpoch::Of(round + window + 1, rep_.scores->Committee(cl, incumbent, sitting, round), base_view);
    for (uint32_t i : e.ranked) fingerprint = Mix64(fingerprint ^ (uint64_t{cl} << 32) ^ i);
    fingerprint = Mix64(fingerprint ^ e.base_view);
    rep_.cluster_roles[cl].Add(e);
    rep_.cluster_roles[cl].set_known_until(known);
    // Evidence lags its sequence number by at most a window: older roles are no longer needed.
    rep_.cluster_roles[cl].ForgetBelow(round > 2 * window ? round - 2 * window : 0);
    if (cl == config_.cluster) local_.InstallRoles(now, std::move(e), known, out);
  }
  out.roles_chosen.push_back({round, fingerprint});
}

// The committee's pace monitor (reputation's defence). For each round, the lag of our cluster's
// PRE-PREPARE behind the last of the other clusters' certificates of that round, as this member
// sees it: a representative that holds its proposals back makes every round of its cluster late
// against the others, whatever the distances (the others' certificates must cross the WAN, our own
// proposal need not; an idle cluster proposes as soon as others start a round). (A slow machine is
// the PBFT side's business: the leader's COMMIT lag, pbft_defence.cc.) A benign loss holds an honest leader back for
// one repair (its proposal limit waits for a lost certificate, or its window for a lost CHECKPOINT: a few hundred ms,
// measured up to 560 ms at 5% loss), so the threshold sits above that, and the median of complaint_rounds rounds
// ignores single late ones; f+1 members must complain before anything happens.
bool GeoBftReplica::Monitoring() const {
  return rep_.scores && config_.params.Defends() && num_clusters_ > 1 && local_.InCommittee() && !local_.IsPrimary();
}

void GeoBftReplica::NoteOthersIn(TimeNs now, uint64_t round) {
  if (!Monitoring() || Has(round, config_.cluster)) return;
  auto it = certs_.find(round);
  if (it == certs_.end()) return;
  for (uint32_t cl = 0; cl < num_clusters_; ++cl) {
    if (cl != config_.cluster && Missing(it->second[cl].digest)) return;
  }
  pace_.others_in.try_emplace(round, now);
  while (pace_.others_in.size() > 4 * config_.local.window) pace_.others_in.erase(pace_.others_in.begin());
}

void GeoBftReplica::MeasurePace(TimeNs now, TimeNs proposed_at, uint64_t round, uint64_t view, Effects& out) {
  // (When the proposal came, not when it committed or executed: votes lost and repaired delay the
  // commit, and a slot lost here alone holds up execution of the ones after it; neither says
  // anything of the leader's pace.)
  auto it = pace_.others_in.find(round);
  const TimeNs others_in = it == pace_.others_in.end() ? proposed_at : it->second;
  const TimeNs lag = std::max<TimeNs>(0, proposed_at - others_in);
  if (it != pace_.others_in.end()) pace_.others_in.erase(it);
  if (!Monitoring()) return;
  // Samples count under one leader only.
  const uint32_t leader = local_.roles().At(std::min(round, local_.roles().known_until())).Leader(view);
  if (view != pace_.view || leader != pace_.leader) {
    pace_.lags.clear();
    pace_.view = view;
    pace_.leader = leader;
  }
  pace_.lags.push_back({lag, proposed_at});
  const size_t k = std::max<uint32_t>(1, config_.params.complaint_rounds);
  while (pace_.lags.size() > k) pace_.lags.pop_front();
  if (pace_.lags.size() < k) return;
  const TimeNs limit = static_cast<TimeNs>(config_.params.complaint_lag_ms * kMillisecond);
  std::vector<TimeNs> lags;
  TimeNs first_late = -1, last_late = -1;
  for (const auto& [l, at] : pace_.lags) {
    lags.push_back(l);
    if (l <= limit) continue;
    first_late = first_late < 0 ? at : std::min(first_late, at);
    last_late = std::max(last_late, at);
  }
  const TimeNs median = UpperMedian(std::move(lags));
  // Late rounds whose proposals came at once are one stall that ended (an honest leader whose
  // proposal limit waited for a lost certificate releases them together); a leader that holds
  // each proposal back keeps releasing late ones over time.
  if (median > limit && last_late - first_late >= limit) {
    local_.Complain(now, round, static_cast<uint32_t>(median / kMillisecond), out);  // (Settle takes what follows)
  }
}

}  // namespace geopbft
