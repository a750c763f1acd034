#include "protocol/reputation.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "protocol/misbehaviour.h"

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
      last_view_(clusters.size(), 0),
      next_complaint_view_(clusters.size(), 0) {
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
    if ((static_cast<int>(a) == incumbent) != (static_cast<int>(b) == incumbent))
      return static_cast<int>(a) == incumbent;
    return a < b;
  });
  order.resize(CommitteeSize(c));
  return order;
}

std::vector<uint32_t> ScoreBook::Committee(uint32_t c, int incumbent, const std::vector<uint32_t>& sitting,
                                           uint64_t round) const {
  if (!params_.Defends()) return Committee(c, incumbent);
  const uint32_t size = CommitteeSize(c);
  auto eligible = [&](uint32_t i) { return !peers_[c][i].barred && Score(c, i) >= params_.eviction_threshold; };
  // Best first: higher score, then lower index.
  auto better = [&](uint32_t a, uint32_t b) { return Score(c, a) != Score(c, b) ? Score(c, a) > Score(c, b) : a < b; };
  std::vector<bool> seated(this->size(c), false);
  std::vector<uint32_t> seats;
  for (uint32_t i : sitting) {
    if (i < seated.size() && eligible(i) && !seated[i] && seats.size() < size) seats.push_back(i), seated[i] = true;
  }
  std::vector<uint32_t> others;
  for (uint32_t i = 0; i < this->size(c); ++i) {
    if (!seated[i] && eligible(i)) others.push_back(i);
  }
  std::sort(others.begin(), others.end(), better);
  size_t next = 0;
  while (seats.size() < size && next < others.size()) seats.push_back(others[next++]);
  // An outsider takes the weakest seat only when it scores more than the margin better: loss and
  // jitter move scores by a few points and must not reshuffle the committee (each change of the
  // leader costs a pipeline).
  while (next < others.size()) {
    auto weakest = std::min_element(seats.begin(), seats.end(), [&](uint32_t a, uint32_t b) { return better(b, a); });
    if (weakest == seats.end() || Score(c, others[next]) <= Score(c, *weakest) + params_.seat_margin) break;
    *weakest = others[next++];
  }
  // Too few eligible: top up with the best of the rest, barred replicas last.
  if (seats.size() < size) {
    std::vector<uint32_t> rest;
    for (uint32_t i = 0; i < this->size(c); ++i) {
      if (std::find(seats.begin(), seats.end(), i) == seats.end()) rest.push_back(i);
    }
    std::sort(rest.begin(), rest.end(), [&](uint32_t a, uint32_t b) {
      if (peers_[c][a].barred != peers_[c][b].barred) return !peers_[c][a].barred;
      return better(a, b);
    });
    for (size_t k = 0; seats.size() < size && k < rest.size(); ++k) seats.push_back(rest[k]);
  }
  // The order: may-lead first, best first; the incumbent keeps the lead within the margin.
  std::sort(seats.begin(), seats.end(), [&](uint32_t a, uint32_t b) {
    bool la = !LeadBanned(c, a, round), lb = !LeadBanned(c, b, round);
    if (la != lb) return la;
    return better(a, b);
  });
  auto inc = std::find(seats.begin(), seats.end(), static_cast<uint32_t>(incumbent));
  if (incumbent >= 0 && inc != seats.end() && inc != seats.begin() && !LeadBanned(c, *inc, round) &&
      Score(c, *inc) + params_.seat_margin >= Score(c, seats.front())) {
    std::rotate(seats.begin(), inc, inc + 1);
  }
  return seats;
}

void ScoreBook::ApplyAccusations(uint32_t c, uint64_t round, const wire::Batch& batch) {
  for (const wire::MisbehaviourProof& p : batch.proofs()) {
    int i = IndexIn(c, p.replica());
    if (i < 0 || peers_[c][i].barred) continue;
    PeerScore& peer = peers_[c][i];
    peer.barred = true;
    peer.barred_round = round;
    peer.consensus = peer.transaction = 0;
    peer.record = 0;
    barred_.push_back({c, p.replica(), round});
  }
  ComplaintVerdict verdict;
  if (!ReadComplaints(batch.complaints(), &verdict) || verdict.view < next_complaint_view_[c] ||
      verdict.accused >= size(c)) {
    return;
  }
  next_complaint_view_[c] = verdict.view + 1;
  PeerScore& peer = peers_[c][verdict.accused];
  ++peer.depositions;
  ++depositions_;
  peer.lead_ban_until = round + (params_.lead_ban_rounds << std::min<uint32_t>(peer.depositions - 1, 6));
  Penalize(c, verdict.accused, params_.complaint_penalty);
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
  // Only the committee votes: listeners are neither rewarded nor punished for silence. A barred
  // replica's score stays at zero for good.
  for (uint32_t i : roles.ranked) {
    if (!peers_[c][i].barred) Update(peers_[c][i], outcome[i]);
  }
}

void ScoreBook::ApplyReplies(uint32_t c, const ReplyTally& replies) {
  if (params_.rule == ReputationParams::Rule::kMyPbft) return;
  const uint32_t n = size(c);
  const uint32_t reports = replies.reports;
  auto answered = [&replies](uint32_t i) { return i < replies.answered.size() ? replies.answered[i] : 0; };
  if (reports == 0) return;
  // One update per batch: the share of reports in which the replica answered.
  for (uint32_t i = 0; i < n; ++i) {
    double share = static_cast<double>(answered(i)) / reports;
    PeerScore& p = peers_[c][i];
    if (p.barred) continue;
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
    s->set_barred(p.barred);
    s->set_barred_round(p.barred_round);
    s->set_lead_ban_until(p.lead_ban_until);
    s->set_depositions(p.depositions);
  }
  out.set_next_complaint_view(next_complaint_view_[c]);
  out.set_scored_upto(scored_upto_[c]);
  out.set_last_view(last_view_[c]);
}

void ScoreBook::Load(uint32_t c, const wire::ClusterState& in) {
  for (uint32_t i = 0; i < size(c) && i < static_cast<uint32_t>(in.scores_size()); ++i) {
    const wire::ScoreState& s = in.scores(static_cast<int>(i));
    peers_[c][i] = {s.consensus(), s.transaction(),  s.streak(),         s.record(),
                    s.barred(),    s.barred_round(), s.lead_ban_until(), s.depositions()};
    bool known = std::any_of(barred_.begin(), barred_.end(),
                             [&](const Barred& b) { return b.cluster == c && b.replica == members_[c][i]; });
    if (s.barred() && !known) barred_.push_back({c, members_[c][i], s.barred_round()});
    my_pbft_[c].set_entry(i, {s.my_score(), s.my_activity(), s.my_outcomes_sum(), s.my_outcomes_n()});
  }
  scored_upto_[c] = in.scored_upto();
  last_view_[c] = in.last_view();
  next_complaint_view_[c] = in.next_complaint_view();
}

uint64_t ScoreBook::Fingerprint() const {
  uint64_t h = 0;
  for (uint32_t c = 0; c < clusters(); ++c) {
    for (uint32_t i = 0; i < size(c); ++i) {
      double s = Score(c, i);
      uint64_t bits;
      std::memcpy(&bits, &s, sizeof bits);
      h = Mix64(h ^ bits ^ (uint64_t{c} << 48) ^ i);
      const PeerScore& p = peers_[c][i];
      if (p.barred || p.lead_ban_until > 0) h = Mix64(h ^ p.barred_round ^ (p.lead_ban_until << 1) ^ p.barred);
    }
  }
  return h;
}

void ScoreBook::Penalize(uint32_t c, uint32_t i, double points) {
  if (params_.rule == ReputationParams::Rule::kMyPbft) return;  // the original rule has no such penalty
  PeerScore& p = peers_[c][i];
  if (p.barred) return;
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
