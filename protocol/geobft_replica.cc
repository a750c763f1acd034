#include "protocol/geobft_replica.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "protocol/pbft_certificates.h"
#include "protocol/quorum.h"

namespace geopbft {
namespace {

PbftConfig Deferred(const GeoConfig& g) {
  PbftConfig c = g.local;
  c.defer_execution = true;
  c.vote_evidence = g.reputation;
  c.defend = g.reputation && g.params.Defends();
  c.cluster = g.cluster;
  c.complaint_commit_slots = g.params.complaint_commit_slots;
  c.complaint_commit_lag = static_cast<TimeNs>(g.params.complaint_commit_lag_ms * kMillisecond);
  return c;
}

bool Missing(const Digest& d) { return d == Digest(); }

constexpr uint64_t kRecentWindows = 4;  // executed rounds' certificates kept for repairs, in windows
constexpr size_t kKeptAnswers = 256;    // answers per client (re-sent requests): memory stays bounded
constexpr size_t kKeptGlobalSnapshots = 2;
constexpr size_t kMaxOffers = 8;        // global-state offers kept, whatever peers send

}  // namespace

GeoBftReplica::GeoBftReplica(GeoConfig config, Identity identity)
    : config_(std::move(config)),
      identity_(identity),
      local_(Deferred(config_), identity),
      z_(static_cast<uint32_t>(config_.clusters.size())),
      presence_(4 * config_.local.window, z_),
      remote_view_(z_, 0) {
  Effects ignored;
  local_.SetProposalLimit(0, config_.local.window, ignored);
  for (uint32_t c = 0; c < z_; ++c) {
    cluster_roles_.push_back(RoleSchedule::Everyone(static_cast<uint32_t>(config_.clusters[c].size())));
    representative_.push_back(config_.clusters[c][0]);
  }
  if (!config_.reputation) return;
  std::vector<uint32_t> faults(z_, config_.local.f);
  scores_ = std::make_unique<ScoreBook>(config_.params, config_.clusters, faults);
  // Everyone starts equal: the first committee is the lowest indexes, led by index 0.
  const uint64_t known = uint64_t{config_.params.reselect_every} + config_.local.window;
  for (uint32_t c = 0; c < z_; ++c) {
    RoleEpoch e = RoleEpoch::Of(1, scores_->Committee(c), 0);
    cluster_roles_[c].Add(e);
    cluster_roles_[c].set_known_until(known);
    if (c == config_.cluster) local_.InstallRoles(0, e, known, ignored);
  }
}

uint32_t GeoBftReplica::VotersOf(uint32_t cluster) const {
  return scores_ ? scores_->CommitteeSize(cluster) : static_cast<uint32_t>(config_.clusters[cluster].size());
}

int GeoBftReplica::RoleOf(uint32_t c, uint32_t i) const {
  const RoleEpoch& e = cluster_roles_[c].At(next_round_);
  if (config_.clusters[c][i] == representative_[c]) return 2;
  return e.Votes(i) ? 1 : 0;
}

// A certificate counts only if a commit quorum of the round's committee signed it (checked at
// execution, when the round's roles are surely known).
bool GeoBftReplica::SignedByCommittee(const Certificate& c, uint32_t cluster, uint64_t round) const {
  if (!scores_ || !c.share) return true;  // our own decision was counted over the committee
  const RoleEpoch& roles = cluster_roles_[cluster].At(round);
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
  for (uint32_t cl = 0; cl < z_; ++cl) {
    const Certificate& c = r[cl];
    const wire::Batch& batch =
        BatchOf(c);
    // The cluster's representative for this round: the leader of the view it committed in.
    NodeId rep = config_.clusters[cl][cluster_roles_[cl].At(round).Leader(c.view)];
    if (rep != representative_[cl] && round > 1) ++representative_changes_;
    representative_[cl] = rep;
    if (!scores_) continue;
    scores_->ApplyBatch(cl, round, batch, [&](uint64_t seq) -> const RoleEpoch& { return cluster_roles_[cl].At(seq); });
    // Proofs against our own members, now committed: nobody needs to carry them any more.
    if (cl == config_.cluster) {
      for (const wire::MisbehaviourProof& p : batch.proofs()) {
        int i = LocalIndexOf(p.replica());
        if (i >= 0 && scores_->IsBarred(cl, static_cast<uint32_t>(i))) local_.NoteBarred(p.replica());
      }
    }
  }
  if (!scores_ || round % config_.params.reselect_every != 0) return;
  const uint64_t window = config_.local.window;
  const uint64_t known = round + config_.params.reselect_every + window;
  uint64_t fingerprint = scores_->Fingerprint();
  for (uint32_t cl = 0; cl < z_; ++cl) {
    const Certificate& c = r[cl];
    const wire::Batch& batch =
        BatchOf(c);
    // The incumbent: the leader of the latest proposal's view under the roles of this round.
    // (Defence: under the latest epoch, the one the new epoch follows; the older rule reads this
    // round's.)
    const RoleEpoch& before = config_.params.Defends() ? cluster_roles_[cl].epochs().rbegin()->second : cluster_roles_[cl].At(round);
    int incumbent = static_cast<int>(before.Leader(scores_->last_view(cl)));
    const std::vector<uint32_t>& sitting = cluster_roles_[cl].epochs().rbegin()->second.ranked;
    // The new committee's best leads the view the cluster is in (the latest proposer view: a
    // re-proposed batch keeps an older one, and leading from it would hand the lead to another).
    const uint64_t base_view = config_.params.Defends() ? scores_->last_view(cl) : batch.proposer_view();
    RoleEpoch e = RoleEpoch::Of(round + window + 1, scores_->Committee(cl, incumbent, sitting, round), base_view);
    for (uint32_t i : e.ranked) fingerprint = Mix64(fingerprint ^ (uint64_t{cl} << 32) ^ i);
    fingerprint = Mix64(fingerprint ^ e.base_view);
    cluster_roles_[cl].Add(e);
    cluster_roles_[cl].set_known_until(known);
    // Evidence lags its sequence number by at most a window: older roles are no longer needed.
    cluster_roles_[cl].ForgetBelow(round > 2 * window ? round - 2 * window : 0);
    if (cl == config_.cluster) local_.InstallRoles(now, std::move(e), known, out);
  }
  out.roles_chosen.push_back({round, fingerprint});
}

// A certificate's batch: from the GLOBAL-SHARE received, or from our own cluster's PRE-PREPARE.
const Message& GeoBftReplica::CarrierOf(const Certificate& c) { return c.share ? *c.share : *c.own.pre_prepare; }

const wire::Batch& GeoBftReplica::BatchOf(const Certificate& c) { return *CarriedBatch(CarrierOf(c)); }

int GeoBftReplica::LocalIndexOf(NodeId n) const {
  const auto& m = config_.clusters[config_.cluster];
  auto it = std::find(m.begin(), m.end(), n);
  return it == m.end() ? -1 : static_cast<int>(it - m.begin());
}

int GeoBftReplica::ClusterOf(NodeId n) const {
  for (uint32_t c = 0; c < z_; ++c) {
    const auto& m = config_.clusters[c];
    if (std::find(m.begin(), m.end(), n) != m.end()) return static_cast<int>(c);
  }
  return -1;
}

bool GeoBftReplica::Has(uint64_t round, uint32_t cluster) const {
  if (round < next_round_) return false;  // executed rounds leave certs_
  if (presence_.Covers(round, next_round_)) return presence_.Test(round, cluster);
  auto it = certs_.find(round);
  return it != certs_.end() && !Missing(it->second[cluster].digest);
}

void GeoBftReplica::NotePresence(uint64_t round) {
  if (!presence_.Covers(round, next_round_)) return;
  auto it = certs_.find(round);
  for (uint32_t cl = 0; cl < z_; ++cl) presence_.Assign(round, cl, it != certs_.end() && !Missing(it->second[cl].digest));
}

MessagePtr GeoBftReplica::Recent(uint64_t round, uint32_t cluster, OpCounts& ops) {
  const uint64_t first = next_round_ - recent_.size();
  if (round < first || round >= next_round_ || cluster >= z_) return nullptr;
  ExecutedRound& executed = recent_[round - first];
  if (cluster != config_.cluster) return executed.shares[cluster];
  return Missing(executed.own.digest) ? nullptr : ShareOf(executed.own, round, ops);
}

size_t GeoBftReplica::state_entries() const {
  size_t n = local_.state_entries() + certs_.size() * z_ + recent_.size() * z_ + drvc_.size() + rvc_.size() + drvc_sent_.size() +
             rvc_sent_.size() + rvc_acted_.size();
  for (const auto& [c, rec] : clients_) n += 1 + rec.above.size();
  for (const auto& [c, kept] : answers_) n += kept.size();
  return n;
}

std::string GeoBftReplica::BoundViolation() const {
  std::string local = local_.BoundViolation();
  if (!local.empty()) return "local PBFT: " + local;
  // Other clusters' certificates are taken less than four windows beyond the next round to execute
  // (our own cluster's run ahead only as far as its primary's proposal limit allows).
  for (const auto& [round, r] : certs_) {
    if (round < next_round_) return absl::StrFormat("certificates kept for executed round %d", round);
    if (round < next_round_ + 4 * config_.local.window) continue;
    for (uint32_t cl = 0; cl < z_; ++cl) {
      if (cl != config_.cluster && !Missing(r[cl].digest)) {
        return absl::StrFormat("certificate of cluster %d for round %d, more than 4 windows ahead of round %d", cl,
                               round, next_round_);
      }
    }
  }
  for (uint64_t round = next_round_; round < next_round_ + presence_.span(); ++round) {
    auto it = certs_.find(round);
    for (uint32_t cl = 0; cl < z_; ++cl) {
      if (presence_.Test(round, cl) != (it != certs_.end() && !Missing(it->second[cl].digest))) {
        return absl::StrFormat("presence bit of cluster %d, round %d disagrees with the certificate table", cl, round);
      }
    }
  }
  if (recent_.size() > kRecentWindows * config_.local.window + 1) {
    return absl::StrFormat("executed certificates kept since round %d (now %d)", next_round_ - recent_.size(), next_round_);
  }
  if (global_snapshots_.size() > kKeptGlobalSnapshots || offers_.size() > kMaxOffers) return "global snapshots or offers beyond their caps";
  for (const auto& [c, kept] : answers_) {
    if (kept.size() > kKeptAnswers) return absl::StrFormat("%d answers kept for client %d", kept.size(), c);
  }
  return "";
}

void GeoBftReplica::Step(TimeNs now, const Input& in, Effects& out) {
  if (in.kind == Input::Kind::kTimer && in.timer == kRemoteTimer) return OnRemoteTimer(now, out);
  if (in.kind == Input::Kind::kStart) {
    // Start, or restart after a crash: the remote timer did not survive. Without re-arming it, a
    // replica that recovers waiting for a certificate sent while it was down never asks again
    // (found by the swarm, seed 587).
    remote_timer_armed_ = false;
    local_.Step(now, in, out);
    AfterLocalStep(now, out);
    ArmRemoteTimer(now, out);
    return;
  }
  if (in.kind == Input::Kind::kMessage) {
    switch (in.msg->type) {
      case MsgType::kGlobalShare: return OnGlobalShare(now, in.msg, out);
      case MsgType::kRemoteViewChangeRequest: return OnDrvc(in.msg, out);
      case MsgType::kRemoteViewChange: return OnRvc(now, in.msg, out);
      case MsgType::kGlobalStateRequest: return OnGlobalStateRequest(in.msg, out);
      case MsgType::kGlobalState: return OnGlobalState(now, in.msg, out);
      case MsgType::kRequest:
        if (AnswerExecuted(in.msg, out)) return;
        break;
      default: break;
    }
  }
  local_.Step(now, in, out);
  AfterLocalStep(now, out);
}

bool GeoBftReplica::AnswerExecuted(const MessagePtr& m, Effects& out) {
  const wire::Request& req = m->env.request();
  auto executed = clients_.find(req.client());
  if (executed == clients_.end() || !executed->second.Contains(req.timestamp())) return false;  // to local PBFT
  if (req.client() != m->sender || !CheckAuth(*m, identity_, 0, out.ops)) {
    ++out.rejected;
    return true;
  }
  auto kept = answers_.find(req.client());
  if (kept == answers_.end()) return true;
  auto result = kept->second.find(req.timestamp());
  if (result != kept->second.end()) SendReply(req.client(), req.timestamp(), result->second, out);
  return true;
}

void GeoBftReplica::SendReply(NodeId client, uint64_t timestamp, uint64_t result, Effects& out) {
  wire::Envelope env;
  wire::Reply* reply = env.mutable_reply();
  reply->set_view(local_.view());
  reply->set_client(client);
  reply->set_timestamp(timestamp);
  reply->set_replica(identity_.self());
  reply->set_result(result);
  out.Send(Seal(std::move(env), identity_, Auth::MacTo(client), out.ops), client);
}

// The local PBFT group decided something (or changed view): take it into the global layer.
void GeoBftReplica::AfterLocalStep(TimeNs now, Effects& out) {
  // A state transfer skipped local decisions: our own cluster's certificates of those rounds are
  // missing from the global layer. Fetch them from our peers.
  if (out.state_transferred_to > 0) FetchOwnCertificates(out);
  if (out.views_installed > 0) {
    last_local_view_change_ = now;
    // A new primary ships what the old one may not have: our certificates not yet executed.
    if (local_.IsPrimary()) {
      uint64_t started = 0;  // the last round other clusters started and ours has nothing for
      for (const auto& [round, r] : certs_) {
        if (!Missing(r[config_.cluster].digest)) {
          ShareCertificate(round, out);
        } else if (std::any_of(r.begin(), r.end(), [](const Certificate& c) { return !Missing(c.digest); })) {
          started = round;
        }
      }
      // ... and the no-ops the old one owed: rounds other clusters started while our cluster had
      // nothing to order. The old primary heard of them; we did too, but as a backup (found when
      // clients stopped getting premature replies: nothing else then starts a new round).
      if (started > 0) local_.ProposeNoops(now, started, out);
    }
  }
  if (out.decided.empty()) return;
  std::vector<LocalDecision> decided;
  decided.swap(out.decided);
  for (LocalDecision& d : decided) OnDecided(now, std::move(d), out);
  TryExecuteRounds(now, out);
}

void GeoBftReplica::OnDecided(TimeNs now, LocalDecision d, Effects& out) {
  uint64_t round = d.seq;
  if (round < next_round_) return;  // executed already (after a state transfer)
  Round& r = certs_[round];
  r.resize(z_);
  Certificate& c = r[config_.cluster];
  c.view = d.view;
  c.digest = d.digest;
  c.own = std::move(d);
  NotePresence(round);
  remote_view_[config_.cluster] = std::max(remote_view_[config_.cluster], c.view);
  if (local_.Leads(round, c.view)) ShareCertificate(round, out);
  MeasurePace(now, c.own.proposed_at, round, c.view, out);
  ArmRemoteTimer(now, out);
}

MessagePtr GeoBftReplica::ShareOf(Certificate& c, uint64_t round, OpCounts& ops) {
  if (c.share) return c.share;
  wire::Envelope env;
  wire::GlobalShare* g = env.mutable_global_share();
  g->set_cluster(config_.cluster);
  g->set_round(round);
  g->set_view(c.view);
  g->set_digest(std::string(c.digest.view()));
  *g->mutable_batch() = c.own.pre_prepare->env.pre_prepare().batch();
  for (const MessagePtr& commit : c.own.commits) *g->add_commits() = commit->env;
  // Signed once, so that every receiver (and every relay) shares the same immutable message.
  c.share = Seal(std::move(env), identity_, Auth::Signature(), ops);
  return c.share;
}

void GeoBftReplica::ShareCertificate(uint64_t round, Effects& out) {
  Certificate& c = certs_[round][config_.cluster];
  MessagePtr share = ShareOf(c, round, out.ops);
  for (uint32_t other = 0; other < z_; ++other) {
    if (other == config_.cluster) continue;
    const auto& members = config_.clusters[other];
    uint32_t n = static_cast<uint32_t>(members.size());
    if (config_.sharing == SharingMode::kPrimariesOnly) {
      out.Send(share, members[cluster_roles_[other].At(round).Leader(remote_view_[other])]);
      continue;
    }
    // f+1 receivers (at least one correct), rotating with the round to spread the relay work.
    for (uint32_t j = 0; j <= Faults(other) && j < n; ++j) out.Send(share, members[(round + j) % n]);
  }
}

bool GeoBftReplica::ValidCertificate(const Message& m, OpCounts& ops) const {
  const wire::GlobalShare& g = m.env.global_share();
  // (Our own cluster's certificate comes this way only when we fetched it after a state transfer.)
  if (g.cluster() >= z_ || (g.cluster() == config_.cluster && Has(g.round(), g.cluster())) || g.digest().size() != 32) {
    return false;
  }
  Digest digest = Digest::FromBytes(g.digest());
  // The batch must hash to the certified digest (charged as re-hashing what was received; the
  // builder's digest of the same bytes is exact).
  ops.hashed_bytes += m.body_bytes + m.payload_bytes;
  if (m.batch_digest != digest) return false;
  const int signers = CertificateSigners(m, config_.clusters[g.cluster()]);
  if (signers < 0 || !CheckEmbeddedSignatures(m, identity_, ops)) return false;
  // A commit quorum of the cluster's voters: n - f = 2f+1 for n = 3f+1 (ceil((n+f+1)/2) in general);
  // with reputation, of its committee (who sits on it is checked at execution).
  return static_cast<uint32_t>(signers) >= CommitQuorum(VotersOf(g.cluster()), Faults(g.cluster()));
}

// How many distinct members of the certificate's cluster signed the COMMITs it carries, all for
// exactly its (view, round, digest); -1 when any entry is malformed. The answer depends on the
// message and the run's topology alone, and a certificate reaches every replica of every cluster,
// so it is worked out by the first receiver and shared (like the signatures' memo).
int GeoBftReplica::CertificateSigners(const Message& m, const std::vector<NodeId>& members) {
  int32_t& memo = m.memo.certificate_signers;
  if (memo != -2) return memo;
  const wire::GlobalShare& g = m.env.global_share();
  absl::btree_set<NodeId> signers;
  memo = -1;
  for (const wire::Envelope& e : g.commits()) {
    if (e.body_case() != wire::Envelope::kCommit) return memo;
    const wire::Commit& c = e.commit();
    if (c.view() != g.view() || c.seq() != g.round() || c.digest() != g.digest() || c.replica() != e.sender() ||
        std::find(members.begin(), members.end(), e.sender()) == members.end() ||
        !signers.insert(e.sender()).second) {
      return memo;
    }
  }
  memo = static_cast<int32_t>(signers.size());
  return memo;
}

void GeoBftReplica::OnGlobalShare(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::GlobalShare& g = m->env.global_share();
  if (g.round() < next_round_ || (g.cluster() < z_ && Has(g.round(), g.cluster()))) return;  // duplicate
  if (g.round() >= next_round_ + 4 * config_.local.window) {
    // Far ahead: we fell behind by more than peers keep certificates for. Catch up by snapshot.
    RequestGlobalState(now, out);
    return;
  }
  if (!CheckAuth(*m, identity_, 0, out.ops) || !ValidCertificate(*m, out.ops)) {
    ++out.rejected;
    return;
  }
  Round& r = certs_[g.round()];
  r.resize(z_);
  Certificate& c = r[g.cluster()];
  c.view = g.view();
  c.digest = Digest::FromBytes(g.digest());
  c.share = m;
  NotePresence(g.round());
  remote_view_[g.cluster()] = std::max(remote_view_[g.cluster()], g.view());
  NoteOthersIn(now, g.round());
  // Received from another cluster: relay it once inside ours.
  if (ClusterOf(m->sender) != static_cast<int>(config_.cluster) && LocalIndexOf(m->sender) < 0) {
    out.Send(m, kToGroup);
  }
  // Our own cluster's certificate, fetched after a state transfer skipped its decision. If we led
  // that round, nobody shipped it to the other clusters: do it now, or each of them must find it
  // missing and ask, a round per repair period (found at 2% loss: a primary that fell a few slots
  // behind held every other cluster for two seconds).
  if (g.cluster() == config_.cluster && local_.Leads(g.round(), g.view())) {
    ShareCertificate(g.round(), out);
    ++late_shares_;
  }
  // Other clusters started this round: if ours has nothing for it, our primary proposes no-ops.
  if (!Has(g.round(), config_.cluster)) local_.ProposeNoops(now, g.round(), out);
  AfterLocalStep(now, out);  // the no-op may have decided at once (tiny clusters)
  TryExecuteRounds(now, out);
  ArmRemoteTimer(now, out);
  // A later certificate of a cluster we are still waiting on (timed as silent): ours was lost, ask
  // for the repair soon.
  if (remote_timer_armed_ && !remote_timer_lost_ && g.round() > next_round_ && !Has(next_round_, g.cluster())) {
    SetRemoteTimer(now, true, out);
  }
}

// The committee's pace monitor (reputation's defence). For each round, the lag of our cluster's
// PRE-PREPARE behind the last of the other clusters' certificates of that round, as this member
// sees it: a representative that holds its proposals back makes every round of its cluster late
// against the others, whatever the distances (the others' certificates must cross the WAN, our own
// proposal need not; an idle cluster proposes as soon as others start a round). (A slow machine is
// the PBFT side's business: the leader's COMMIT lag, pbft_defence.cc.) A benign loss holds an honest leader back for one repair (its proposal limit waits for
// a lost certificate, or its window for a lost CHECKPOINT: a few hundred ms, measured up to 560 ms
// at 5% loss), so the threshold sits above that, and the median of complaint_rounds rounds
// ignores single late ones; f+1 members must complain before anything happens.
bool GeoBftReplica::Monitoring() const {
  return scores_ && config_.params.Defends() && z_ > 1 && local_.InCommittee() && !local_.IsPrimary();
}

void GeoBftReplica::NoteOthersIn(TimeNs now, uint64_t round) {
  if (!Monitoring() || Has(round, config_.cluster)) return;
  auto it = certs_.find(round);
  if (it == certs_.end()) return;
  for (uint32_t cl = 0; cl < z_; ++cl) {
    if (cl != config_.cluster && Missing(it->second[cl].digest)) return;
  }
  others_in_.try_emplace(round, now);
  while (others_in_.size() > 4 * config_.local.window) others_in_.erase(others_in_.begin());
}

void GeoBftReplica::MeasurePace(TimeNs now, TimeNs proposed_at, uint64_t round, uint64_t view, Effects& out) {
  // (When the proposal came, not when it committed or executed: votes lost and repaired delay the
  // commit, and a slot lost here alone holds up execution of the ones after it; neither says
  // anything of the leader's pace.)
  auto it = others_in_.find(round);
  const TimeNs others_in = it == others_in_.end() ? proposed_at : it->second;
  const TimeNs lag = std::max<TimeNs>(0, proposed_at - others_in);
  if (it != others_in_.end()) others_in_.erase(it);
  if (!Monitoring()) return;
  // Samples count under one leader only.
  const uint32_t leader = local_.roles().At(std::min(round, local_.roles().known_until())).Leader(view);
  if (view != lag_view_ || leader != lag_leader_) {
    lags_.clear();
    lag_view_ = view;
    lag_leader_ = leader;
  }
  lags_.push_back({lag, proposed_at});
  const size_t k = std::max<uint32_t>(1, config_.params.complaint_rounds);
  while (lags_.size() > k) lags_.pop_front();
  if (lags_.size() < k) return;
  const TimeNs limit = static_cast<TimeNs>(config_.params.complaint_lag_ms * kMillisecond);
  std::vector<TimeNs> lags;
  TimeNs first_late = -1, last_late = -1;
  for (const auto& [l, at] : lags_) {
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
    local_.Complain(now, round, static_cast<uint32_t>(median / kMillisecond), out);
    AfterLocalStep(now, out);
  }
}

void GeoBftReplica::TryExecuteRounds(TimeNs now, Effects& out) {
  bool progressed = false;
  for (auto it = certs_.find(next_round_); it != certs_.end() && it->first == next_round_;
       it = certs_.find(next_round_)) {
    Round& r = it->second;
    if (std::any_of(r.begin(), r.end(), [](const Certificate& c) { return Missing(c.digest); })) break;
    bool forged = false;
    for (uint32_t cl = 0; cl < z_; ++cl) {
      if (!SignedByCommittee(r[cl], cl, next_round_)) {
        r[cl] = Certificate{};  // not this round's committee: wait for (or ask for) a proper one
        forged = true;
      }
    }
    if (forged) {
      NotePresence(next_round_);
      break;
    }
    ScoreRound(now, next_round_, r, out);
    ExecutedRound& executed = recent_.emplace_back();
    executed.shares.resize(z_);
    for (uint32_t cl = 0; cl < z_; ++cl) {
      Certificate& c = r[cl];
      uint64_t position = (next_round_ - 1) * z_ + cl + 1;
      Execution ex{position, c.view, c.digest, 0};
      for (const RequestId& req : BatchRequestIds(CarrierOf(c))) {
        if (!clients_[req.client].Insert(req.timestamp)) continue;  // at most once
        ++ex.requests;
        const uint64_t result = ExecutionResult(position, req.client, req.timestamp);
        out.results.push_back({req.client, req.timestamp, result});
        if (cl != config_.cluster) continue;  // each cluster answers its own clients
        auto& kept = answers_[req.client];
        kept[req.timestamp] = result;
        while (kept.size() > kKeptAnswers) kept.erase(kept.begin());
        SendReply(req.client, req.timestamp, result, out);
      }
      out.executed.push_back(ex);
      executed_positions_ = position;
      if (cl == config_.cluster) {
        executed.own = std::move(c);
      } else {
        executed.shares[cl] = std::move(c.share);  // every other cluster's certificate arrived as a share
      }
    }
    // Forget the round and everything said about it (keeping its certificates for repairs).
    uint64_t done = next_round_++;
    presence_.ClearRound(done);
    NotePresence(next_round_ + presence_.span() - 1);  // the round that just came into the ring
    const uint64_t every = std::max<uint64_t>(1, config_.local.checkpoint_interval);
    if (done % every == 0) TakeGlobalSnapshot();
    certs_.erase(it);
    // (Four windows: a replica that fell behind and caught its local PBFT up by state transfer
    // fetches the certificates it skipped from here. They are shared, immutable messages: keeping
    // them costs pointers, not copies.)
    while (recent_.size() > kRecentWindows * config_.local.window) recent_.pop_front();
    auto forget = [done](auto& m) {
      for (auto i = m.begin(); i != m.end();) i = i->first.second <= done ? m.erase(i) : std::next(i);
    };
    forget(drvc_);
    forget(rvc_);
    for (auto i = relayed_rvc_.begin(); i != relayed_rvc_.end();) i = i->second <= done ? relayed_rvc_.erase(i) : std::next(i);
    for (auto* s : {&drvc_sent_, &rvc_sent_, &rvc_acted_}) {
      for (auto i = s->begin(); i != s->end();) i = i->second <= done ? s->erase(i) : std::next(i);
    }
    progressed = true;
  }
  if (progressed) {
    remote_attempts_ = 0;
    // Flow control: the local primary stays within a window of global execution.
    local_.SetProposalLimit(now, next_round_ - 1 + config_.local.window, out);
    AfterLocalStep(now, out);
    ArmRemoteTimer(now, out);
  }
}

// Waiting on round next_round_: when something of it is here but not everything, time the rest.
void GeoBftReplica::ArmRemoteTimer(TimeNs now, Effects& out) {
  auto it = certs_.find(next_round_);
  bool waiting = it != certs_.end();
  if (!waiting) {
    if (remote_timer_armed_) out.CancelTimer(kRemoteTimer);
    remote_timer_armed_ = false;
    return;
  }
  if (remote_timer_armed_ && remote_timer_round_ == next_round_) return;
  // A cluster whose certificate of a later round is here is not silent: ours was lost. Ask for a
  // repair soon rather than after the remote timeout meant for silent clusters.
  bool lost = false;
  for (uint32_t c = 0; c < z_ && !lost; ++c) {
    if (!Missing(it->second[c].digest)) continue;
    for (auto later = std::next(it); later != certs_.end() && !lost; ++later) lost = !Missing(later->second[c].digest);
  }
  SetRemoteTimer(now, lost, out);
}

void GeoBftReplica::SetRemoteTimer(TimeNs now, bool lost, Effects& out) {
  remote_timer_armed_ = true;
  remote_timer_round_ = next_round_;
  remote_timer_lost_ = lost;
  TimeNs timeout = lost ? config_.remote_timeout / 8 : config_.remote_timeout << std::min<uint32_t>(remote_attempts_, 6);
  out.SetTimer(kRemoteTimer, now + timeout);
}

void GeoBftReplica::OnRemoteTimer(TimeNs now, Effects& out) {
  remote_timer_armed_ = false;
  auto it = certs_.find(next_round_);
  if (it == certs_.end()) return;
  for (uint32_t c = 0; c < z_; ++c) {
    // Our own cluster is local PBFT's business (no-ops, local view change).
    if (c != config_.cluster && Missing(it->second[c].digest)) SendDrvc(c, next_round_, out);
  }
  FetchOwnCertificates(out);
  ++remote_attempts_;
  // Our own cluster decided a window beyond our global execution, or we have been waiting through
  // several timeouts: peers may have forgotten what we miss. Ask for a snapshot too.
  if (local_.last_executed() >= next_round_ + config_.local.window || remote_attempts_ >= 3) RequestGlobalState(now, out);
  ArmRemoteTimer(now, out);
}

void GeoBftReplica::TakeGlobalSnapshot() {
  wire::GlobalSnapshot snap;
  const uint64_t round = next_round_ - 1;
  snap.set_round(round);
  snap.set_executed_positions(executed_positions_);
  for (const auto& [client, rec] : clients_) {
    wire::ClientState* c = snap.add_clients();
    c->set_client(client);
    c->set_low(rec.low);
    for (uint64_t ts : rec.above) c->add_above(ts);
  }
  for (uint32_t cl = 0; cl < z_; ++cl) {
    wire::ClusterState* cs = snap.add_clusters();
    if (scores_) scores_->Save(cl, *cs);
    for (const auto& [first, e] : cluster_roles_[cl].epochs()) {
      wire::RoleEpochState* es = cs->add_epochs();
      es->set_first_seq(e.first_seq);
      for (uint32_t i : e.ranked) es->add_ranked(i);
      es->set_base_view(e.base_view);
    }
    cs->set_known_until(cluster_roles_[cl].known_until());
  }
  global_snapshots_[round] = snap.SerializeAsString();
  while (global_snapshots_.size() > kKeptGlobalSnapshots) global_snapshots_.erase(global_snapshots_.begin());
}

void GeoBftReplica::RequestGlobalState(TimeNs now, Effects& out) {
  // At most one request per repair period.
  if (last_global_request_ >= 0 && now - last_global_request_ < config_.remote_timeout / 8) return;
  last_global_request_ = now;
  wire::Envelope env;
  env.mutable_global_state_request()->set_round(next_round_);
  env.mutable_global_state_request()->set_replica(identity_.self());
  for (NodeId peer : config_.clusters[config_.cluster]) {
    if (peer != identity_.self()) out.Send(Seal(env, identity_, Auth::MacTo(peer), out.ops), peer);
  }
  // Other clusters hold the same global state (and our peers may be as far behind as we are, or
  // too few of them ahead to vouch for a snapshot): f+1 replicas of each, from our index on.
  const uint32_t my_index = static_cast<uint32_t>(LocalIndexOf(identity_.self()));
  for (uint32_t c = 0; c < z_; ++c) {
    if (c == config_.cluster) continue;
    const auto& members = config_.clusters[c];
    const uint32_t n = static_cast<uint32_t>(members.size());
    for (uint32_t k = 0; k <= Faults(c) && k < n; ++k) {
      NodeId peer = members[(my_index + k) % n];
      out.Send(Seal(env, identity_, Auth::MacTo(peer), out.ops), peer);
    }
  }
}

void GeoBftReplica::OnGlobalStateRequest(const MessagePtr& m, Effects& out) {
  const wire::GlobalStateRequest& r = m->env.global_state_request();
  if (ClusterOf(m->sender) < 0 || r.replica() != m->sender || !CheckAuth(*m, identity_, 0, out.ops)) {
    ++out.rejected;
    return;
  }
  if (global_snapshots_.empty() || global_snapshots_.rbegin()->first < r.round()) return;  // nothing newer
  wire::Envelope env;
  wire::GlobalState* st = env.mutable_global_state();
  st->set_replica(identity_.self());
  for (const auto& [round, bytes] : global_snapshots_) {
    if (round >= r.round()) st->add_snapshots(bytes);
  }
  out.Send(Seal(std::move(env), identity_, Auth::MacTo(m->sender), out.ops), m->sender);
}

void GeoBftReplica::OnGlobalState(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::GlobalState& st = m->env.global_state();
  const int from = ClusterOf(m->sender);
  if (from < 0 || st.replica() != m->sender || st.snapshots_size() > 2 ||
      !CheckAuth(*m, identity_, 0, out.ops)) {
    ++out.rejected;
    return;
  }
  for (const std::string& bytes : st.snapshots()) {
    wire::GlobalSnapshot snap;
    if (!snap.ParseFromString(bytes) || snap.clusters_size() != static_cast<int>(z_)) {
      ++out.rejected;
      return;
    }
    if (snap.round() < next_round_) continue;
    out.ops.hashed_bytes += bytes.size();
    Offer& offer = offers_[{snap.round(), std::string(Sha256(bytes).view())}];
    if (offer.bytes.empty()) offer.bytes = bytes;
    offer.senders.insert(m->sender);
    // f+1 identical snapshots from one cluster (whose f is meant): at least one from a correct
    // replica, so this is the state.
    uint32_t same_cluster = 0;
    for (NodeId sender : offer.senders) same_cluster += ClusterOf(sender) == from;
    if (same_cluster >= Faults(static_cast<uint32_t>(from)) + 1) {
      InstallGlobalSnapshot(now, snap, out);
      return;
    }
  }
  while (offers_.size() > kMaxOffers) offers_.erase(offers_.begin());
}

void GeoBftReplica::InstallGlobalSnapshot(TimeNs now, const wire::GlobalSnapshot& snap, Effects& out) {
  next_round_ = snap.round() + 1;
  executed_positions_ = snap.executed_positions();
  clients_.clear();
  for (const wire::ClientState& c : snap.clients()) {
    ExecutedTimestamps& rec = clients_[c.client()];
    rec.low = c.low();
    rec.above.insert(c.above().begin(), c.above().end());
  }
  for (uint32_t cl = 0; cl < z_; ++cl) {
    const wire::ClusterState& cs = snap.clusters(static_cast<int>(cl));
    if (scores_) scores_->Load(cl, cs);
    RoleSchedule roles = RoleSchedule::Everyone(static_cast<uint32_t>(config_.clusters[cl].size()));
    for (const wire::RoleEpochState& es : cs.epochs()) {
      roles.Add(RoleEpoch::Of(es.first_seq(), {es.ranked().begin(), es.ranked().end()}, es.base_view()));
    }
    roles.set_known_until(cs.known_until());
    cluster_roles_[cl] = std::move(roles);
  }
  // Forget what the snapshot covers.
  certs_.erase(certs_.begin(), certs_.upper_bound(snap.round()));
  presence_.ClearAll();
  for (uint64_t round = next_round_; round < next_round_ + presence_.span(); ++round) NotePresence(round);
  recent_.clear();
  offers_.erase(offers_.begin(), offers_.lower_bound({next_round_, std::string()}));
  remote_attempts_ = 0;
  ++global_state_transfers_;
  if (scores_) {
    for (const auto& [first, e] : cluster_roles_[config_.cluster].epochs()) {
      local_.InstallRoles(now, e, cluster_roles_[config_.cluster].known_until(), out);
    }
  }
  local_.SetProposalLimit(now, next_round_ - 1 + config_.local.window, out);
  AfterLocalStep(now, out);
  TryExecuteRounds(now, out);
  ArmRemoteTimer(now, out);
}

void GeoBftReplica::SendDrvc(uint32_t cluster, uint64_t round, Effects& out) {
  // Re-sent on every expiry of the remote timer: the request or its answer may have been lost.
  drvc_sent_.insert({cluster, round});
  wire::Envelope env;
  wire::RemoteViewChangeRequest* d = env.mutable_remote_view_change_request();
  d->set_cluster(cluster);
  d->set_round(round);
  d->set_replica(identity_.self());
  out.Send(Seal(std::move(env), identity_, Auth::MacGroup(&config_.clusters[config_.cluster]), out.ops), kToGroup);
  // Count our own request like anyone's.
  drvc_[{cluster, round}].insert(static_cast<uint32_t>(LocalIndexOf(identity_.self())));
  // We told the cluster already and still wait: the complaint or the certificate it answers with
  // (when it did decide the round) was lost. Tell it again.
  if (rvc_sent_.contains({cluster, round})) SendRvc(cluster, round, out);
}

// Asks f+1 peers (one correct at least) for our own cluster's certificates of the rounds our local
// PBFT has decided (by state transfer) but the global layer has not seen.
void GeoBftReplica::FetchOwnCertificates(Effects& out) {
  const uint64_t upto = std::min(local_.last_executed(), next_round_ + config_.local.window - 1);
  const auto& members = config_.clusters[config_.cluster];
  const uint32_t n = static_cast<uint32_t>(members.size());
  const uint32_t self = static_cast<uint32_t>(LocalIndexOf(identity_.self()));
  for (uint64_t round = next_round_; round <= upto; ++round) {
    if (Has(round, config_.cluster)) continue;
    wire::Envelope env;
    wire::RemoteViewChangeRequest* d = env.mutable_remote_view_change_request();
    d->set_cluster(config_.cluster);
    d->set_round(round);
    d->set_replica(identity_.self());
    for (uint32_t k = 1; k <= Faults(config_.cluster) + 1 && k < n; ++k) {
      NodeId peer = members[(self + k) % n];
      out.Send(Seal(env, identity_, Auth::MacTo(peer), out.ops), peer);
    }
  }
}

void GeoBftReplica::OnDrvc(const MessagePtr& m, Effects& out) {
  const wire::RemoteViewChangeRequest& d = m->env.remote_view_change_request();
  int index = LocalIndexOf(m->sender);
  if (index < 0 || d.replica() != m->sender || d.cluster() >= z_ ||
      !CheckAuth(*m, identity_, static_cast<uint32_t>(LocalIndexOf(identity_.self())), out.ops)) {
    ++out.rejected;
    return;
  }
  if (d.cluster() == config_.cluster) {
    // A peer fetching our cluster's certificate (it skipped the round by state transfer).
    if (Has(d.round(), d.cluster())) {
      Certificate& c = certs_[d.round()][d.cluster()];
      if (c.share || c.own.pre_prepare) out.Send(ShareOf(c, d.round(), out.ops), m->sender), ++repairs_sent_;
    } else if (MessagePtr share = Recent(d.round(), d.cluster(), out.ops)) {
      out.Send(share, m->sender);
      ++repairs_sent_;
    }
    return;
  }
  std::pair<uint32_t, uint64_t> key{d.cluster(), d.round()};
  // Repair: we hold the certificate (or executed it recently); the asker only lost it.
  if (Has(d.round(), d.cluster())) {
    out.Send(certs_[d.round()][d.cluster()].share, m->sender);
    ++repairs_sent_;
    return;
  }
  if (d.round() < next_round_) {
    if (MessagePtr share = Recent(d.round(), d.cluster(), out.ops)) out.Send(share, m->sender), ++repairs_sent_;
    return;
  }
  auto& senders = drvc_[key];
  senders.insert(static_cast<uint32_t>(index));
  uint32_t f = Faults(config_.cluster), n = static_cast<uint32_t>(config_.clusters[config_.cluster].size());
  if (senders.size() >= f + 1 && !drvc_sent_.contains(key)) SendDrvc(d.cluster(), d.round(), out);  // join
  if (senders.size() >= CommitQuorum(n, f) && rvc_sent_.insert(key).second) {
    SendRvc(d.cluster(), d.round(), out);
    ++rvc_sent_total_;
  }
}

// n-f of us agree that `cluster` is silent in `round`: tell it, replica to replica of the same index.
void GeoBftReplica::SendRvc(uint32_t cluster, uint64_t round, Effects& out) {
  wire::Envelope env;
  wire::RemoteViewChange* r = env.mutable_remote_view_change();
  r->set_from_cluster(config_.cluster);
  r->set_cluster(cluster);
  r->set_round(round);
  r->set_replica(identity_.self());
  const auto& target = config_.clusters[cluster];
  uint32_t my_index = static_cast<uint32_t>(LocalIndexOf(identity_.self()));
  out.Send(Seal(std::move(env), identity_, Auth::Signature(), out.ops), target[my_index % target.size()]);
}

void GeoBftReplica::OnRvc(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::RemoteViewChange& r = m->env.remote_view_change();
  int from = ClusterOf(m->sender);
  if (from < 0 || static_cast<uint32_t>(from) != r.from_cluster() || r.cluster() != config_.cluster ||
      r.replica() != m->sender || !CheckAuth(*m, identity_, 0, out.ops)) {
    ++out.rejected;
    return;
  }
  // If we decided that round, our primary did its job and the network lost the certificate: send
  // it straight back, and do not hold the complaint against the primary.
  if (Has(r.round(), config_.cluster)) {
    out.Send(ShareOf(certs_[r.round()][config_.cluster], r.round(), out.ops), m->sender);
    ++repairs_sent_;
    return;
  }
  if (r.round() < next_round_) {
    if (MessagePtr share = Recent(r.round(), config_.cluster, out.ops)) out.Send(share, m->sender), ++repairs_sent_;
    return;
  }
  std::pair<uint32_t, uint64_t> key{r.from_cluster(), r.round()};
  auto& senders = rvc_[key];
  if (!senders.insert(m->sender).second) return;
  // Each remote replica told only its same-index peer: relay it (signed) so that all of us count.
  if (LocalIndexOf(m->sender) < 0 && relayed_rvc_.insert({m->sender, r.round()}).second) out.Send(m, kToGroup);
  if (senders.size() < Faults(r.from_cluster()) + 1 || rvc_acted_.contains(key)) return;
  rvc_acted_.insert(key);
  // f+1 replicas of another cluster (one correct at least) say our primary is silent. Change it,
  // unless we are changing it already or just did.
  bool recent = last_local_view_change_ >= 0 && now - last_local_view_change_ < config_.remote_timeout;
  if (local_.view_changing() || recent) return;
  local_.SuspectPrimary(now, out);
  AfterLocalStep(now, out);
}

std::string GeoBftReplica::Describe() const {
  std::string missing;
  auto it = certs_.find(next_round_);
  for (uint32_t c = 0; c < z_; ++c) {
    if (it == certs_.end() || Missing(it->second[c].digest)) absl::StrAppend(&missing, missing.empty() ? "" : ",", c);
  }
  return absl::StrFormat("round %d (executed %d) waiting for certificates of clusters [%s]; local: %s",
                         next_round_, executed_positions_, missing, local_.Describe());
}

}  // namespace geopbft
