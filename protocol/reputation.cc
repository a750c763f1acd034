#include "protocol/reputation.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace geopbft {
namespace {

bool Bit(const std::string& bitmap, uint32_t i) {
  return i / 8 < bitmap.size() && (static_cast<unsigned char>(bitmap[i / 8]) >> (i % 8)) & 1;
}

}  // namespace

ScoreBook::ScoreBook(ReputationParams params, std::vector<std::vector<NodeId>> clusters, std::vector<uint32_t> faults)
    : params_(params),
      members_(clusters),
      faults_(std::move(faults)),
      scored_upto_(clusters.size(), 0),
      last_view_(clusters.size(), 0) {
  for (size_t c = 0; c < clusters.size(); ++c) {
    PeerScore start{params_.initial, params_.initial, 0, 1.0};
    peers_.emplace_back(clusters[c].size(), start);
    my_pbft_.emplace_back(static_cast<uint32_t>(clusters[c].size()), faults_[c]);
  }
}

uint32_t ScoreBook::CommitteeSize(uint32_t c) const {
  uint32_t want = params_.committee_size > 0 ? params_.committee_size : 3 * faults_[c] + 1;
  return std::min(want, size(c));
}

double ScoreBook::Score(uint32_t c, uint32_t i) const {
  if (params_.rule == ReputationParams::Rule::kMyPbft) return my_pbft_[c].score(i);
  const PeerScore& p = peers_[c][i];
  return params_.consensus_weight * p.consensus + (1 - params_.consensus_weight) * p.transaction;
}

std::vector<uint32_t> ScoreBook::Committee(uint32_t c, int incumbent) const {
  std::vector<uint32_t> order(size(c));
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  // Eligible first, then by whole points of score, then the incumbent representative (so that
  // equals do not take turns leading: a handover costs a pipeline), then by index. Deterministic,
  // and the same at every replica.
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    bool ea = Score(c, a) >= params_.eviction_threshold, eb = Score(c, b) >= params_.eviction_threshold;
    if (ea != eb) return ea;
    double sa = std::floor(Score(c, a)), sb = std::floor(Score(c, b));
    if (sa != sb) return sa > sb;
    if ((static_cast<int>(a) == incumbent) != (static_cast<int>(b) == incumbent)) return static_cast<int>(a) == incumbent;
    return a < b;
  });
  order.resize(CommitteeSize(c));
  return order;
}

int ScoreBook::IndexIn(uint32_t c, NodeId n) const {
  const auto& m = members_[c];
  auto it = std::find(m.begin(), m.end(), n);
  return it == m.end() ? -1 : static_cast<int>(it - m.begin());
}

std::vector<VoteOutcome> ScoreBook::Judge(uint32_t c, const wire::VoteEvidence& ev, const RoleEpoch& roles) const {
  const uint32_t n = size(c);
  std::vector<uint32_t> listers(n, 0);
  std::vector<bool> committed(n, false), against(n, false);
  // (The backups that committed this batch checked the evidence: members only, signed, one COMMIT
  // each, a commit quorum for `digest`.)
  for (const wire::Envelope& e : ev.commits()) {
    int i = IndexIn(c, e.sender());
    if (i < 0) continue;
    if (e.commit().digest() != ev.digest()) {
      against[i] = true;
      continue;
    }
    committed[i] = true;
    for (uint32_t k = 0; k < n; ++k) listers[k] += Bit(e.commit().prepare_evidence(), k);
  }
  const uint32_t leader = roles.Leader(ev.view());
  std::vector<VoteOutcome> outcome(n, VoteOutcome::kMiss);
  for (uint32_t i = 0; i < n; ++i) {
    if (against[i]) {
      outcome[i] = VoteOutcome::kAgainst;
    } else if (committed[i] || (i != leader && listers[i] >= faults_[c] + 1)) {
      outcome[i] = VoteOutcome::kAgree;
    }
  }
  return outcome;
}

void ScoreBook::ApplyVotes(uint32_t c, const wire::VoteEvidence& ev, const RoleEpoch& roles) {
  if (params_.rule == ReputationParams::Rule::kMyPbft) {
    // The original rule: activity from the COMMITs the primary received and the voters they list.
    MyPbftScores& s = my_pbft_[c];
    for (const wire::Envelope& e : ev.commits()) {
      int i = IndexIn(c, e.sender());
      if (i < 0 || e.commit().digest() != ev.digest()) continue;
      std::vector<uint32_t> voters;
      for (uint32_t k = 0; k < size(c); ++k) {
        if (Bit(e.commit().prepare_evidence(), k)) voters.push_back(k);
      }
      s.OnCommit(static_cast<uint32_t>(i), voters);
    }
    s.EndRound(roles.ranked, roles.Leader(ev.view()));
    return;
  }
  std::vector<VoteOutcome> outcome = Judge(c, ev, roles);
  // Only the committee votes: listeners are neither rewarded nor punished for silence.
  for (uint32_t i : roles.ranked) Update(peers_[c][i], outcome[i]);
}

void ScoreBook::ApplyReplies(uint32_t c, const wire::Batch& batch) {
  if (params_.rule == ReputationParams::Rule::kMyPbft) return;
  const uint32_t n = size(c);
  uint32_t reports = 0;
  std::vector<uint32_t> answered(n, 0);
  for (const wire::SignedRequest& sr : batch.requests()) {
    const wire::Request& r = sr.request();
    if (r.answered_ts() == 0) continue;
    ++reports;
    for (uint32_t i = 0; i < n; ++i) answered[i] += Bit(r.answered(), i);
  }
  if (reports == 0) return;
  // One update per batch: the share of reports in which the replica answered.
  for (uint32_t i = 0; i < n; ++i) {
    double share = static_cast<double>(answered[i]) / reports;
    PeerScore& p = peers_[c][i];
    p.transaction += params_.reply_reward * share - params_.reply_penalty * (1 - share);
    p.transaction = std::clamp(p.transaction, 0.0, params_.transaction_cap);
  }
}

void ScoreBook::Save(uint32_t c, wire::ClusterState& out) const {
  for (uint32_t i = 0; i < size(c); ++i) {
    const PeerScore& p = peers_[c][i];
    wire::ScoreState* s = out.add_scores();
    s->set_consensus(p.consensus);
    s->set_transaction(p.transaction);
    s->set_streak(p.streak);
    s->set_record(p.record);
    MyPbftScores::Entry e = my_pbft_[c].entry(i);
    s->set_my_score(e.score);
    s->set_my_activity(e.activity);
    s->set_my_outcomes_sum(e.outcomes_sum);
    s->set_my_outcomes_n(e.outcomes_n);
  }
  out.set_scored_upto(scored_upto_[c]);
  out.set_last_view(last_view_[c]);
}

void ScoreBook::Load(uint32_t c, const wire::ClusterState& in) {
  for (uint32_t i = 0; i < size(c) && i < static_cast<uint32_t>(in.scores_size()); ++i) {
    const wire::ScoreState& s = in.scores(static_cast<int>(i));
    peers_[c][i] = {s.consensus(), s.transaction(), s.streak(), s.record()};
    my_pbft_[c].set_entry(i, {s.my_score(), s.my_activity(), s.my_outcomes_sum(), s.my_outcomes_n()});
  }
  scored_upto_[c] = in.scored_upto();
  last_view_[c] = in.last_view();
}

uint64_t ScoreBook::Fingerprint() const {
  uint64_t h = 0;
  for (uint32_t c = 0; c < clusters(); ++c) {
    for (uint32_t i = 0; i < size(c); ++i) {
      double s = Score(c, i);
      uint64_t bits;
      std::memcpy(&bits, &s, sizeof bits);
      h = Mix64(h ^ bits ^ (uint64_t{c} << 48) ^ i);
    }
  }
  return h;
}

void ScoreBook::Penalize(uint32_t c, uint32_t i, double points) {
  if (params_.rule == ReputationParams::Rule::kMyPbft) return;  // the original rule has no such penalty
  PeerScore& p = peers_[c][i];
  p.consensus = std::clamp(p.consensus - points, 0.0, params_.consensus_cap);
  p.record *= 0.5;  // a replaced leader's record takes long to heal (it ranks below its equals)
}

void ScoreBook::Update(PeerScore& p, VoteOutcome o) const {
  const double decay = params_.history_decay;
  switch (o) {
    case VoteOutcome::kAgree:
      p.consensus += params_.agree_reward;
      p.streak = 0;
      p.record = decay * p.record + (1 - decay);
      break;
    case VoteOutcome::kMiss: {
      ++p.streak;
      double k = p.streak > params_.forgiven_misses ? p.streak - params_.forgiven_misses : 0;
      k = std::min<double>(k, params_.miss_streak_cap);
      p.consensus -= k * params_.miss_penalty * (1 - params_.history_weight * p.record);
      p.record = decay * p.record;
      break;
    }
    case VoteOutcome::kAgainst:
      ++p.streak;
      p.consensus -= params_.against_penalty;
      p.record *= 0.5;  // proven misbehaviour: as for a replaced leader
      break;
  }
  p.consensus = std::clamp(p.consensus, 0.0, params_.consensus_cap);
}

}  // namespace geopbft
