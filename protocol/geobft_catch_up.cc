// GeoBFT's global catch-up: a replica too far behind for the certificates its peers keep takes a
// snapshot of the global state (execution position, client records, scores and roles) vouched for
// by f+1 replicas.
#include <algorithm>

#include "protocol/geobft_replica.h"
#include "protocol/quorum.h"

namespace geopbft {

void GeoBftReplica::TakeGlobalSnapshot() {
  wire::GlobalSnapshot snap;
  const uint64_t round = next_round_ - 1;
  snap.set_round(round);
  snap.set_executed_positions(executed_positions_);
  for (const auto& [client, rec] : clients_) {
    wire::ClientState* c = snap.add_clients();
    c->set_client(client);
    c->set_low(rec.low());
    rec.ForEachAbove([c](uint64_t ts) { c->add_above(ts); });
  }
  for (uint32_t cl = 0; cl < num_clusters_; ++cl) {
    wire::ClusterState* cs = snap.add_clusters();
    if (rep_.scores) rep_.scores->Save(cl, *cs);
    for (const auto& [first, e] : rep_.cluster_roles[cl].epochs()) {
      wire::RoleEpochState* es = cs->add_epochs();
      es->set_first_seq(e.first_seq);
      for (uint32_t i : e.ranked) es->add_ranked(i);
      es->set_base_view(e.base_view);
    }
    cs->set_known_until(rep_.cluster_roles[cl].known_until());
  }
  catch_up_.snapshots[round] = snap.SerializeAsString();
  while (catch_up_.snapshots.size() > kKeptGlobalSnapshots) catch_up_.snapshots.erase(catch_up_.snapshots.begin());
}

void GeoBftReplica::RequestGlobalState(TimeNs now, Effects& out) {
  // At most one request per repair period.
  if (catch_up_.last_request >= 0 && now - catch_up_.last_request < config_.remote_timeout / 8) return;
  catch_up_.last_request = now;
  wire::Envelope env;
  env.mutable_global_state_request()->set_round(next_round_);
  env.mutable_global_state_request()->set_replica(identity_.self());
  for (NodeId peer : config_.clusters[config_.cluster]) {
    if (peer != identity_.self()) out.Send(Seal(env, identity_, Auth::MacTo(peer), out.ops), peer);
  }
  // Other clusters hold the same global state (and our peers may be as far behind as we are, or
  // too few of them ahead to vouch for a snapshot): f+1 replicas of each, from our index on.
  const uint32_t my_index = static_cast<uint32_t>(LocalIndexOf(identity_.self()));
  for (uint32_t c = 0; c < num_clusters_; ++c) {
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
  if (catch_up_.snapshots.empty() || catch_up_.snapshots.rbegin()->first < r.round()) return;  // nothing newer
  wire::Envelope env;
  wire::GlobalState* st = env.mutable_global_state();
  st->set_replica(identity_.self());
  for (const auto& [round, bytes] : catch_up_.snapshots) {
    if (round >= r.round()) st->add_snapshots(bytes);
  }
  out.Send(Seal(std::move(env), identity_, Auth::MacTo(m->sender), out.ops), m->sender);
}

void GeoBftReplica::OnGlobalState(TimeNs now, const MessagePtr& m, Effects& out) {
  const wire::GlobalState& st = m->env.global_state();
  const int from = ClusterOf(m->sender);
  if (from < 0 || st.replica() != m->sender || st.snapshots_size() > 2 || !CheckAuth(*m, identity_, 0, out.ops)) {
    ++out.rejected;
    return;
  }
  for (const std::string& bytes : st.snapshots()) {
    wire::GlobalSnapshot snap;
    if (!snap.ParseFromString(bytes) || snap.clusters_size() != static_cast<int>(num_clusters_)) {
      ++out.rejected;
      return;
    }
    if (snap.round() < next_round_) continue;
    out.ops.checked_bytes += bytes.size();
    GeoCatchUp::Offer& offer = catch_up_.offers[{snap.round(), std::string(Sha256(bytes).view())}];
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
  while (catch_up_.offers.size() > kMaxOffers) catch_up_.offers.erase(catch_up_.offers.begin());
}

void GeoBftReplica::InstallGlobalSnapshot(TimeNs now, const wire::GlobalSnapshot& snap, Effects& out) {
  next_round_ = snap.round() + 1;
  executed_positions_ = snap.executed_positions();
  clients_.clear();
  for (const wire::ClientState& c : snap.clients()) {
    ExecutedTimestamps& rec = clients_[c.client()];
    rec.Reset(c.low(), c.above());
  }
  for (uint32_t cl = 0; cl < num_clusters_; ++cl) {
    const wire::ClusterState& cs = snap.clusters(static_cast<int>(cl));
    if (rep_.scores) rep_.scores->Load(cl, cs);
    RoleSchedule roles = RoleSchedule::Everyone(static_cast<uint32_t>(config_.clusters[cl].size()));
    for (const wire::RoleEpochState& es : cs.epochs()) {
      roles.Add(RoleEpoch::Of(es.first_seq(), {es.ranked().begin(), es.ranked().end()}, es.base_view()));
    }
    roles.set_known_until(cs.known_until());
    rep_.cluster_roles[cl] = std::move(roles);
  }
  // Forget what the snapshot covers.
  certs_.erase(certs_.begin(), certs_.upper_bound(snap.round()));
  presence_.ClearAll();
  for (uint64_t round = next_round_; round < next_round_ + presence_.span(); ++round) NotePresence(round);
  recent_.clear();
  catch_up_.offers.erase(catch_up_.offers.begin(), catch_up_.offers.lower_bound({next_round_, std::string()}));
  remote_.attempts = 0;
  ++catch_up_.state_transfers;
  if (rep_.scores) {
    for (const auto& [first, e] : rep_.cluster_roles[config_.cluster].epochs()) {
      local_.InstallRoles(now, e, rep_.cluster_roles[config_.cluster].known_until(), out);
    }
  }
  local_.SetProposalLimit(now, next_round_ - 1 + config_.local.window, out);
  Settle(now, out, /*rounds_may_be_ready=*/true);
  ArmRemoteTimer(now, out);
}

}  // namespace geopbft
