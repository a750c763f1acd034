// GeoBFT's remote view change and certificate repair. A replica waiting on a round times the
// clusters it misses: a certificate lost on the way (a later one of the same cluster is here) is
// asked of our own peers soon; a cluster silent for the remote timeout is reported, and n-f of us
// tell it, replica to replica, to change its primary (DRVC inside the cluster, RVC across).
#include <algorithm>

#include "protocol/geobft_replica.h"
#include "protocol/quorum.h"

namespace geopbft {

// Waiting on round next_round_: when something of it is here but not everything, time the rest.
void GeoBftReplica::ArmRemoteTimer(TimeNs now, Effects& out) {
  auto it = certs_.find(next_round_);
  bool waiting = it != certs_.end();
  if (!waiting) {
    if (remote_.timer_armed) out.CancelTimer(kRemoteTimer);
    remote_.timer_armed = false;
    return;
  }
  if (remote_.timer_armed && remote_.timer_round == next_round_) return;
  // A cluster whose certificate of a later round is here is not silent: ours was lost. Ask for a
  // repair soon rather than after the remote timeout meant for silent clusters.
  bool lost = false;
  for (uint32_t c = 0; c < num_clusters_ && !lost; ++c) {
    if (!Missing(it->second[c].digest)) continue;
    for (auto later = std::next(it); later != certs_.end() && !lost; ++later) lost = !Missing(later->second[c].digest);
  }
  SetRemoteTimer(now, lost, out);
}

void GeoBftReplica::SetRemoteTimer(TimeNs now, bool lost, Effects& out) {
  remote_.timer_armed = true;
  remote_.timer_round = next_round_;
  remote_.timer_lost = lost;
  // The first wait tells a silent cluster from a slow one (the remote timeout). Once it was found
  // silent, ask again every quarter of that for as long as the round is missing: across a partition
  // requests and answers are lost, and when it heals the clusters must find each other within a
  // fraction of a second, not after an exponential back-off of seconds. (Repeating is cheap: a
  // cluster changes its primary at most once per complaining cluster and round.)
  TimeNs timeout = lost                    ? config_.remote_timeout / 8
                   : remote_.attempts == 0 ? config_.remote_timeout
                                           : config_.remote_timeout / 4;
  out.SetTimer(kRemoteTimer, now + timeout);
}

// The first remote timeout, then retries at a quarter of it: 1 + 2 x 4 attempts span three timeouts.
constexpr uint32_t kSnapshotAfterAttempts = 9;

void GeoBftReplica::OnRemoteTimer(TimeNs now, Effects& out) {
  remote_.timer_armed = false;
  auto it = certs_.find(next_round_);
  if (it == certs_.end()) return;
  for (uint32_t c = 0; c < num_clusters_; ++c) {
    // Our own cluster is local PBFT's business (no-ops, local view change).
    if (c != config_.cluster && Missing(it->second[c].digest)) SendDrvc(c, next_round_, out);
  }
  // ... but if we lead it and it has nothing for a round others started, the no-ops are owed now:
  // the certificates that called for them may have come while we were not primary yet, and nothing
  // else asks again. (Found by the swarm, seed 1003690 of --protocol=geobft: a cluster's primary
  // changed while a member was cut off; the new one had heard of round 17 as a backup, proposed
  // nothing, and every cluster waited for that round for good.)
  if (Missing(it->second[config_.cluster].digest)) {
    local_.ProposeNoops(now, next_round_, out);
    Settle(now, out);
  }
  FetchOwnCertificates(out);
  ++remote_.attempts;
  // Our own cluster decided a window beyond our global execution, or we have been waiting for three
  // remote timeouts: peers may have forgotten what we miss. Ask for a snapshot too.
  if (local_.last_executed() >= next_round_ + config_.local.window || remote_.attempts >= kSnapshotAfterAttempts)
    RequestGlobalState(now, out);
  ArmRemoteTimer(now, out);
}

void GeoBftReplica::SendDrvc(uint32_t cluster, uint64_t round, Effects& out) {
  // Re-sent on every expiry of the remote timer: the request or its answer may have been lost.
  remote_.silence_reported.insert({cluster, round});
  wire::Envelope env;
  wire::RemoteViewChangeRequest* d = env.mutable_remote_view_change_request();
  d->set_cluster(cluster);
  d->set_round(round);
  d->set_replica(identity_.self());
  out.Send(Seal(std::move(env), identity_, Auth::MacGroup(&config_.clusters[config_.cluster]), out.ops), kToGroup);
  // Count our own request like anyone's.
  remote_.silence_reports[{cluster, round}].insert(static_cast<uint32_t>(LocalIndexOf(identity_.self())));
  // We told the cluster already and still wait: the complaint or the certificate it answers with
  // (when it did decide the round) was lost. Tell it again.
  if (remote_.view_change_sent.contains({cluster, round})) SendRvc(cluster, round, out);
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

// Sends `to` our certificate of `cluster` for `round` and for the rounds after it that we hold, up
// to a window: whatever lost one lost the ones after it too (a partition, a cut link), and asking
// a round at a time made a reconnected cluster catch up at a few rounds a second. Returns how many.
uint32_t GeoBftReplica::SendRepair(uint64_t round, uint32_t cluster, NodeId to, Effects& out) {
  uint32_t sent = 0;
  for (uint64_t r = round; r < round + config_.local.window; ++r) {
    MessagePtr share;
    if (Has(r, cluster)) {
      Certificate& c = certs_[r][cluster];
      if (cluster != config_.cluster)
        share = c.share;
      else if (c.share || c.own.pre_prepare)
        share = ShareOf(c, r, out.ops);
    } else {
      share = Recent(r, cluster, out.ops);
    }
    if (!share) break;
    out.Send(share, to);
    ++sent;
  }
  remote_.repairs_sent += sent;
  return sent;
}

void GeoBftReplica::OnDrvc(const MessagePtr& m, Effects& out) {
  const wire::RemoteViewChangeRequest& d = m->env.remote_view_change_request();
  int index = LocalIndexOf(m->sender);
  if (index < 0 || d.replica() != m->sender || d.cluster() >= num_clusters_ ||
      !CheckAuth(*m, identity_, static_cast<uint32_t>(LocalIndexOf(identity_.self())), out.ops)) {
    ++out.rejected;
    return;
  }
  if (d.cluster() == config_.cluster) {
    // A peer fetching our cluster's certificate (it skipped the round by state transfer).
    SendRepair(d.round(), d.cluster(), m->sender, out);
    return;
  }
  std::pair<uint32_t, uint64_t> key{d.cluster(), d.round()};
  // Repair: we hold the certificate (or executed it recently); the asker only lost it.
  if (SendRepair(d.round(), d.cluster(), m->sender, out) > 0 || d.round() < next_round_) return;
  auto& senders = remote_.silence_reports[key];
  senders.insert(static_cast<uint32_t>(index));
  uint32_t f = Faults(config_.cluster), n = static_cast<uint32_t>(config_.clusters[config_.cluster].size());
  if (senders.size() >= f + 1 && !remote_.silence_reported.contains(key))
    SendDrvc(d.cluster(), d.round(), out);  // join
  if (senders.size() >= CommitQuorum(n, f) && remote_.view_change_sent.insert(key).second) {
    SendRvc(d.cluster(), d.round(), out);
    ++remote_.requests_sent;
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
  if (SendRepair(r.round(), config_.cluster, m->sender, out) > 0 || r.round() < next_round_) return;
  std::pair<uint32_t, uint64_t> key{r.from_cluster(), r.round()};
  auto& senders = remote_.view_change_votes[key];
  if (!senders.insert(m->sender).second) return;
  // Each remote replica told only its same-index peer: relay it (signed) so that all of us count.
  if (LocalIndexOf(m->sender) < 0 && remote_.relayed_view_changes.insert({m->sender, r.round()}).second)
    out.Send(m, kToGroup);
  if (senders.size() < Faults(r.from_cluster()) + 1 || remote_.view_change_acted.contains(key)) return;
  remote_.view_change_acted.insert(key);
  // f+1 replicas of another cluster (one correct at least) say our primary is silent. Change it,
  // unless we are changing it already or just did.
  bool recent = remote_.last_local_view_change >= 0 && now - remote_.last_local_view_change < config_.remote_timeout;
  if (local_.view_changing() || recent) return;
  local_.SuspectPrimary(now, out);
  Settle(now, out);
}

}  // namespace geopbft
