#include "protocol/geobft_replica.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "protocol/client_lookaside.h"
#include "protocol/pbft_certificates.h"
#include "protocol/quorum.h"

namespace geopbft {
namespace {

PbftConfig Deferred(const GeoConfig& g) {
  PbftConfig c = g.local;
  c.defer_execution = true;
  c.global_clusters = static_cast<uint32_t>(g.clusters.size());
  c.vote_evidence = g.reputation;
  c.defend = g.reputation && g.params.Defends();
  c.cluster = g.cluster;
  c.complaint_commit_slots = g.params.complaint_commit_slots;
  c.complaint_commit_lag = static_cast<TimeNs>(g.params.complaint_commit_lag_ms * kMillisecond);
  return c;
}

}  // namespace

GeoBftReplica::GeoBftReplica(GeoConfig config, Identity identity)
    : config_(std::move(config)),
      identity_(identity),
      local_(Deferred(config_), identity),
      num_clusters_(static_cast<uint32_t>(config_.clusters.size())),
      presence_(4 * config_.local.window, num_clusters_),
      remote_view_(num_clusters_, 0) {
  Effects ignored;
  local_.SetProposalLimit(0, config_.local.window, ignored);
  uint64_t next_free = 0;  // the id after the previous cluster's run
  for (const std::vector<NodeId>& m : config_.clusters) {
    bool run = !m.empty() && m[0] >= next_free;
    for (size_t i = 1; run && i < m.size(); ++i) run = m[i] == m[0] + i;
    if (!run) {
      cluster_starts_.clear();
      break;
    }
    cluster_starts_.push_back(m[0]);
    next_free = uint64_t{m[0]} + m.size();
  }
  for (uint32_t c = 0; c < num_clusters_; ++c) {
    rep_.cluster_roles.push_back(RoleSchedule::Everyone(static_cast<uint32_t>(config_.clusters[c].size())));
    rep_.representative.push_back(config_.clusters[c][0]);
  }
  if (!config_.reputation) return;
  std::vector<uint32_t> faults(num_clusters_, config_.local.f);
  rep_.scores = std::make_unique<ScoreBook>(config_.params, config_.clusters, faults);
  // Everyone starts equal: the first committee is the lowest indexes, led by index 0.
  const uint64_t known = uint64_t{config_.params.reselect_every} + config_.local.window;
  for (uint32_t c = 0; c < num_clusters_; ++c) {
    RoleEpoch e = RoleEpoch::Of(1, rep_.scores->Committee(c), 0);
    rep_.cluster_roles[c].Add(e);
    rep_.cluster_roles[c].set_known_until(known);
    if (c == config_.cluster) local_.InstallRoles(0, e, known, ignored);
  }
}

// A certificate's batch: from the GLOBAL-SHARE received, or from our own cluster's PRE-PREPARE.
const Message& GeoBftReplica::CarrierOf(const Certificate& c) { return c.share ? *c.share : *c.own.pre_prepare; }

const wire::Batch& GeoBftReplica::BatchHeadOf(const Certificate& c) { return *CarriedBatchHead(CarrierOf(c)); }

int GeoBftReplica::LocalIndexOf(NodeId n) const {
  const auto& m = config_.clusters[config_.cluster];
  auto it = std::find(m.begin(), m.end(), n);
  return it == m.end() ? -1 : static_cast<int>(it - m.begin());
}

int GeoBftReplica::ClusterOf(NodeId n) const {
  if (!cluster_starts_.empty()) {
    // (A search over every cluster's members cost a thousand comparisons per certificate at 1,000
    // replicas.)
    auto after = std::upper_bound(cluster_starts_.begin(), cluster_starts_.end(), n);
    if (after == cluster_starts_.begin()) return -1;
    const auto c = static_cast<uint32_t>(after - cluster_starts_.begin() - 1);
    return n - cluster_starts_[c] < config_.clusters[c].size() ? static_cast<int>(c) : -1;
  }
  for (uint32_t c = 0; c < num_clusters_; ++c) {
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
  for (uint32_t cl = 0; cl < num_clusters_; ++cl)
    presence_.Assign(round, cl, it != certs_.end() && !Missing(it->second[cl].digest));
}

MessagePtr GeoBftReplica::Recent(uint64_t round, uint32_t cluster, OpCounts& ops) {
  const uint64_t first = next_round_ - recent_.size();
  if (round < first || round >= next_round_ || cluster >= num_clusters_) return nullptr;
  ExecutedRound& executed = recent_[round - first];
  if (cluster != config_.cluster) return executed.shares[cluster];
  return Missing(executed.own.digest) ? nullptr : ShareOf(executed.own, round, ops);
}

size_t GeoBftReplica::state_entries() const {
  size_t n = local_.state_entries() + certs_.size() * num_clusters_ + recent_.size() * num_clusters_ +
             remote_.silence_reports.size() + remote_.view_change_votes.size() + remote_.silence_reported.size() +
             remote_.view_change_sent.size() + remote_.view_change_acted.size();
  for (const auto& [c, rec] : clients_) n += 1 + rec.above_count();
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
    for (uint32_t cl = 0; cl < num_clusters_; ++cl) {
      if (cl != config_.cluster && !Missing(r[cl].digest)) {
        return absl::StrFormat("certificate of cluster %d for round %d, more than 4 windows ahead of round %d", cl,
                               round, next_round_);
      }
    }
  }
  for (uint64_t round = next_round_; round < next_round_ + presence_.span(); ++round) {
    auto it = certs_.find(round);
    for (uint32_t cl = 0; cl < num_clusters_; ++cl) {
      if (presence_.Test(round, cl) != (it != certs_.end() && !Missing(it->second[cl].digest))) {
        return absl::StrFormat("presence bit of cluster %d, round %d disagrees with the certificate table", cl, round);
      }
    }
  }
  if (recent_.size() > kRecentWindows * config_.local.window + 1) {
    return absl::StrFormat("executed certificates kept since round %d (now %d)", next_round_ - recent_.size(),
                           next_round_);
  }
  if (catch_up_.snapshots.size() > kKeptGlobalSnapshots || catch_up_.offers.size() > kMaxOffers)
    return "global snapshots or offers beyond their caps";
  for (const auto& [c, kept] : answers_) {
    if (kept.size() > kKeptAnswers) return absl::StrFormat("%d answers kept for client %d", kept.size(), c);
  }
  return "";
}

void GeoBftReplica::Step(TimeNs now, const Input& in, Effects& out) {
  local_.ClearOutcome();  // what the local PBFT reports, it reports for this step
  if (in.kind == Input::Kind::kTimer && in.timer == kRemoteTimer) return OnRemoteTimer(now, out);
  if (in.kind == Input::Kind::kStart) {
    // Start, or restart after a crash: the remote timer did not survive. Without re-arming it, a
    // replica that recovers waiting for a certificate sent while it was down never asks again
    // (found by the swarm, seed 587).
    remote_.timer_armed = false;
    local_.Step(now, in, out);
    Settle(now, out);
    ArmRemoteTimer(now, out);
    return;
  }
  if (in.kind == Input::Kind::kMessage) {
    switch (in.msg->type) {
      case MsgType::kGlobalShare:
        return OnGlobalShare(now, in.msg, out);
      case MsgType::kRemoteViewChangeRequest:
        return OnDrvc(in.msg, out);
      case MsgType::kRemoteViewChange:
        return OnRvc(now, in.msg, out);
      case MsgType::kGlobalStateRequest:
        return OnGlobalStateRequest(in.msg, out);
      case MsgType::kGlobalState:
        return OnGlobalState(now, in.msg, out);
      case MsgType::kRequest:
        if (AnswerExecuted(in.msg, out)) return;
        break;
      default:
        break;
    }
  }
  local_.Step(now, in, out);
  Settle(now, out);
}

bool GeoBftReplica::AnswerExecuted(const MessagePtr& m, Effects& out) {
  const wire::Request& req = m->env.request();
  auto executed = clients_.find(req.client());
  if (executed == clients_.end() || !executed->second.Contains(req.timestamp())) return false;  // to local PBFT
  if (req.client() != m->sender || !CheckAuth(*m, identity_, 0, out.ops)) {
    ++out.rejected;
    return true;
  }
  // The answer kept when we executed it; or, if we skipped its round by a global snapshot, the
  // result its local order gave it (found by the swarm, seed 1000701 of --protocol=reputation: every
  // replica of a cluster took a snapshot over the rounds holding its client's last requests, nobody
  // could answer them, and that client waited for good while the others ran on).
  auto kept = answers_.find(req.client());
  const uint64_t* result = kept == answers_.end() ? nullptr : kept->second.Find(req.timestamp());
  if (result == nullptr) result = local_.OrderedResult(req.client(), req.timestamp());
  if (result != nullptr) SendReply(req.client(), req.timestamp(), *result, out);
  return true;
}

void GeoBftReplica::SendReply(NodeId client, uint64_t timestamp, uint64_t result, Effects& out) {
  out.Send(SealReply(local_.view(), client, timestamp, result, identity_, out.ops), client);
}

// GeoBFT's settle loop, run after anything that may have moved the local PBFT: what it reported
// goes into the global layer, then the rounds now complete execute, which raises the local
// primary's proposal limit and may let the group decide more; until nothing moves.
// `rounds_may_be_ready`: a certificate or snapshot arrived, so try executing even if the local
// group reported nothing.
void GeoBftReplica::Settle(TimeNs now, Effects& out, bool rounds_may_be_ready) {
  bool executed = false;
  for (bool first = true;; first = false) {
    const bool decided = TakeLocalOutcome(now, out);
    if (!decided && !(first && rounds_may_be_ready)) break;
    if (ExecuteReadyRounds(now, out)) {
      executed = true;
      remote_.attempts = 0;
      // Flow control: the local primary stays within a window of global execution.
      local_.SetProposalLimit(now, next_round_ - 1 + config_.local.window, out);
      continue;
    }
    if (local_.outcome().decided.empty()) break;  // (a complaint of the pace monitor may decide)
  }
  if (executed) ArmRemoteTimer(now, out);
}

// What the local PBFT group reported this step (decisions, a new view, a state transfer), taken
// into the global layer. False when it decided nothing new.
bool GeoBftReplica::TakeLocalOutcome(TimeNs now, Effects& out) {
  // A state transfer skipped local decisions: our own cluster's certificates of those rounds are
  // missing from the global layer. Fetch them from our peers.
  if (local_.outcome().state_transferred_to > 0) FetchOwnCertificates(out);
  if (local_.outcome().views_installed > 0) {
    remote_.last_local_view_change = now;
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
  std::vector<LocalDecision> decided = local_.TakeDecisions();
  if (decided.empty()) return false;
  for (LocalDecision& d : decided) OnDecided(now, std::move(d), out);
  return true;
}

void GeoBftReplica::OnDecided(TimeNs now, LocalDecision d, Effects& out) {
  uint64_t round = d.seq;
  if (round < next_round_) return;  // executed already (after a state transfer)
  Round& r = certs_[round];
  r.resize(num_clusters_);
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
  for (const MessagePtr& commit : c.own.commits) *g->add_commits() = commit->env;
  // Signed once, so that every receiver (and every relay) shares the same immutable message; its
  // batch is the proposal's, not a copy.
  c.share = SealShare(std::move(env), c.own.pre_prepare, identity_, ops);
  return c.share;
}

void GeoBftReplica::ShareCertificate(uint64_t round, Effects& out) {
  Certificate& c = certs_[round][config_.cluster];
  MessagePtr share = ShareOf(c, round, out.ops);
  for (uint32_t other = 0; other < num_clusters_; ++other) {
    if (other == config_.cluster) continue;
    const auto& members = config_.clusters[other];
    uint32_t n = static_cast<uint32_t>(members.size());
    if (config_.sharing == SharingMode::kPrimariesOnly) {
      out.Send(share, members[rep_.cluster_roles[other].At(round).Leader(remote_view_[other])]);
      continue;
    }
    // f+1 receivers (at least one correct), rotating with the round to spread the relay work.
    for (uint32_t j = 0; j <= Faults(other) && j < n; ++j) out.Send(share, members[(round + j) % n]);
  }
}

bool GeoBftReplica::ValidCertificate(const Message& m, OpCounts& ops) const {
  const wire::GlobalShare& g = m.env.global_share();
  // (Our own cluster's certificate comes this way only when we fetched it after a state transfer.)
  if (g.cluster() >= num_clusters_ || (g.cluster() == config_.cluster && Has(g.round(), g.cluster())) ||
      g.digest().size() != 32) {
    return false;
  }
  Digest digest = Digest::FromBytes(g.digest());
  // The batch must hash to the certified digest (charged as re-hashing what was received; the
  // builder's digest of the same bytes is exact).
  ops.checked_bytes += m.body_bytes + m.payload_bytes;
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
        std::find(members.begin(), members.end(), e.sender()) == members.end() || !signers.insert(e.sender()).second) {
      return memo;
    }
  }
  memo = static_cast<int32_t>(signers.size());
  return memo;
}

void GeoBftReplica::OnGlobalShare(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::GlobalShare& g = m->env.global_share();
  if (g.round() < next_round_ || (g.cluster() < num_clusters_ && Has(g.round(), g.cluster()))) return;  // duplicate
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
  r.resize(num_clusters_);
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
  Settle(now, out, /*rounds_may_be_ready=*/true);  // (the no-op may have decided at once: tiny clusters)
  ArmRemoteTimer(now, out);
  // A later certificate of a cluster we are still waiting on (timed as silent): ours was lost, ask
  // for the repair soon.
  if (remote_.timer_armed && !remote_.timer_lost && g.round() > next_round_ && !Has(next_round_, g.cluster())) {
    SetRemoteTimer(now, true, out);
  }
}

// Executes every complete round from next_round_ on; true if any.
bool GeoBftReplica::ExecuteReadyRounds(TimeNs now, Effects& out) {
  bool progressed = false;
  for (auto it = certs_.find(next_round_); it != certs_.end() && it->first == next_round_;
       it = certs_.find(next_round_)) {
    Round& r = it->second;
    if (std::any_of(r.begin(), r.end(), [](const Certificate& c) { return Missing(c.digest); })) break;
    bool forged = false;
    for (uint32_t cl = 0; cl < num_clusters_; ++cl) {
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
    executed.shares.resize(num_clusters_);
    for (uint32_t cl = 0; cl < num_clusters_; ++cl) {
      Certificate& c = r[cl];
      uint64_t position = (next_round_ - 1) * num_clusters_ + cl + 1;
      Execution ex{position, c.view, c.digest, 0};
      ClientLookaside done_by_client(clients_);
      const Message& carrier = CarrierOf(c);
      const std::vector<RequestId>& requests = BatchRequestIds(carrier);
      const std::vector<uint64_t>& results = BatchResults(carrier, position);
      for (size_t i = 0; i < requests.size(); ++i) {
        const RequestId& req = requests[i];
        if (!done_by_client[req.client].Insert(req.timestamp)) continue;  // at most once
        ++ex.requests;
        const uint64_t result = results[i];
        out.results.push_back({req.client, req.timestamp, result});
        if (cl != config_.cluster) continue;  // each cluster answers its own clients
        batch_answers_.Add(req.client, req.timestamp, result);
        SendReply(req.client, req.timestamp, result, out);
      }
      batch_answers_.KeepIn([this](NodeId client) -> KeptAnswers& { return answers_[client]; }, kKeptAnswers);
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
    TrimRecent();
    auto forget = [done](auto& m) {
      for (auto i = m.begin(); i != m.end();) i = i->first.second <= done ? m.erase(i) : std::next(i);
    };
    forget(remote_.silence_reports);
    forget(remote_.view_change_votes);
    for (auto i = remote_.relayed_view_changes.begin(); i != remote_.relayed_view_changes.end();)
      i = i->second <= done ? remote_.relayed_view_changes.erase(i) : std::next(i);
    for (auto* s : {&remote_.silence_reported, &remote_.view_change_sent, &remote_.view_change_acted}) {
      for (auto i = s->begin(); i != s->end();) i = i->second <= done ? s->erase(i) : std::next(i);
    }
    progressed = true;
  }
  return progressed;
}

// Keeps four windows of executed rounds, the older three with their batches compacted.
void GeoBftReplica::TrimRecent() {
  // (Four windows: a replica that fell behind and caught its local PBFT up by state transfer
  // fetches the certificates it skipped from here. They are shared, immutable messages: keeping
  // them costs pointers, not copies.)
  while (recent_.size() > kRecentWindows * config_.local.window) recent_.pop_front();
  // A window back, the certificates are kept for repairs alone: their batches go compact (put back
  // if a repair reads one). Every replica compacts the round when it gets there; the first does it.
  if (recent_.size() > config_.local.window) {
    const ExecutedRound& kept = recent_[recent_.size() - 1 - config_.local.window];
    if (kept.own.own.pre_prepare) CompactBatch(*kept.own.own.pre_prepare, identity_.mode());
    for (const MessagePtr& share : kept.shares) {
      if (share) CompactBatch(*share, identity_.mode());
    }
  }
}

std::string GeoBftReplica::Describe() const {
  std::string missing;
  auto it = certs_.find(next_round_);
  for (uint32_t c = 0; c < num_clusters_; ++c) {
    if (it == certs_.end() || Missing(it->second[c].digest)) absl::StrAppend(&missing, missing.empty() ? "" : ",", c);
  }
  return absl::StrFormat("round %d (executed %d) waiting for certificates of clusters [%s]; local: %s", next_round_,
                         executed_positions_, missing, local_.Describe());
}

}  // namespace geopbft
