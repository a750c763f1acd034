// The world builder: the simulation's replicas (PBFT or GeoBFT, their configuration from the
// scenario and the topology), clients, network, fault schedule and checkers, built once.
#include <algorithm>

#include "absl/strings/str_format.h"
#include "protocol/geobft_replica.h"
#include "sim/distribution.h"
#include "sim/scenario_loader.h"
#include "sim/simulation.h"

namespace geopbft {
namespace {

uint32_t HonestReplicas(const scenario::Scenario& s) {
  absl::btree_set<uint32_t> byzantine;
  for (const auto& b : s.byzantine()) byzantine.insert(b.replicas().begin(), b.replicas().end());
  return TotalReplicas(s) - static_cast<uint32_t>(byzantine.size());
}

LoadMode ToLoadMode(scenario::Workload::Mode m) {
  switch (m) {
    case scenario::Workload::OPEN_LOOP:
      return LoadMode::kOpenLoop;
    case scenario::Workload::FIXED_COUNT:
      return LoadMode::kFixedCount;
    case scenario::Workload::CLOSED_LOOP:
      break;
  }
  return LoadMode::kClosedLoop;
}

}  // namespace

Simulation::Observers::Observers(std::FILE* trace_sink, const Topology& topo, uint32_t honest, TimeNs stall_after)
    : trace(trace_sink, topo),
      metrics(topo.clusters, topo.geo, &events.log()),
      // (GeoBFT replicas of all clusters execute one global order, so one checker covers both.)
      safety(honest),
      reputation(&topo, &events.log()),
      stall(stall_after, &topo.region_names) {
  for (Observer* o : std::initializer_list<Observer*>{&trace, &events, &metrics, &safety, &reputation, &bounds, &stall})
    all.Add(o);
}

Simulation::Simulation(const scenario::Scenario& scenario, CryptoMode crypto, std::FILE* trace_sink)
    : label_{scenario.name(), scenario::Protocol::Kind_Name(scenario.protocol().kind()), scenario.seed()},
      topo_(Topology::FromScenario(scenario)),
      keys_(scenario.seed(), crypto),
      cpu_(scenario.cpu()) {
  const scenario::Workload& w = scenario.workload();
  opts_.end = MsToNs(scenario.duration_s() * 1e3);
  opts_.interval = std::max<TimeNs>(1, MsToNs(scenario.metrics().interval_s() * 1e3));
  opts_.inbox_limit = uint64_t{scenario.cpu().inbox_limit_kb()} * 1024;
  opts_.open_loop = w.mode() == scenario::Workload::OPEN_LOOP;
  opts_.arrival_mean_ms = opts_.open_loop ? 1e3 / w.rate_per_client_tps() : 0;
  opts_.fixed_count = w.mode() == scenario::Workload::FIXED_COUNT;
  faults_ = std::make_unique<FaultSchedule>(scenario, topo_.catalog, topo_.node_region);
  network_ = std::make_unique<Network>(scenario.network(), topo_.catalog, topo_.node_region);
  BuildReplicas(scenario);
  BuildClients(scenario);
  obs_ = std::make_unique<Observers>(trace_sink, topo_, HonestReplicas(scenario),
                                     MsToNs(scenario.checks().stall_after_s() * 1e3));
}

void Simulation::RecordSentMessages(std::FILE* sink) {
  if (sink == nullptr || obs_->sent_log) return;
  obs_->sent_log = std::make_unique<SentLogObserver>(sink);
  obs_->all.Add(obs_->sent_log.get());
}

// A replica's state machine: plain PBFT, or GeoBFT (wrapping the PBFT of its cluster).
std::unique_ptr<Replica> Simulation::MakeReplica(const scenario::Scenario& scenario, NodeId r) const {
  const auto& p = scenario.protocol();
  PbftConfig cfg;
  cfg.members = topo_.groups[topo_.GroupOf(r)];
  cfg.self_index = topo_.IndexInGroup(r);
  cfg.f = topo_.f;
  cfg.batch_size = p.batch_size();
  cfg.batch_timeout = MsToNs(p.batch_timeout_ms());
  cfg.window = p.window();
  cfg.checkpoint_interval = p.pbft().checkpoint_interval();
  cfg.request_timeout = MsToNs(p.pbft().request_timeout_ms());
  cfg.drop_out_of_order = p.pbft().drop_out_of_order();
  // COMMITs with MACs: flat PBFT's default (the paper's implementation), unless signatures are asked for.
  cfg.mac_commits = !topo_.layered() && p.pbft().vote_auth() != scenario::Pbft::SIGNATURES;
  cfg.planted_quorum_shortfall = scenario.checks().planted_bug() == scenario::Checks::QUORUM_2F ? 1 : 0;
  if (!topo_.layered()) return std::make_unique<PbftReplica>(std::move(cfg), Identity(&keys_, r));
  GeoConfig gc;
  gc.local = std::move(cfg);
  gc.cluster = topo_.GroupOf(r);
  gc.clusters = topo_.groups;
  gc.reputation = topo_.reputation;
  gc.params = ToReputationParams(p.reputation());
  gc.sharing =
      p.geobft().sharing() == scenario::GeoBft::PRIMARIES_ONLY ? SharingMode::kPrimariesOnly : SharingMode::kFPlusOne;
  gc.remote_timeout = MsToNs(p.geobft().remote_timeout_ms());
  return std::make_unique<GeoBftReplica>(std::move(gc), Identity(&keys_, r));
}

void Simulation::BuildReplicas(const scenario::Scenario& scenario) {
  const auto& p = scenario.protocol();
  replicas_.resize(topo_.replicas);
  for (NodeId r = 0; r < topo_.replicas; ++r) {
    ReplicaHost& h = replicas_[r];
    h.cluster = topo_.ClusterOf(r);
    h.group = &topo_.groups[topo_.GroupOf(r)];
    h.drop_out_of_order = p.pbft().drop_out_of_order();
    h.sm = MakeReplica(scenario, r);
    h.rng = Rng::ForStream(scenario.seed(), StreamKind::kReplica, r);
    h.speed = scenario.cpu().speed();
    h.workers.assign(std::max<uint32_t>(scenario.cpu().cores(), 1) - 1, 0);
  }
  for (const auto& rs : scenario.cpu().replica_speed()) replicas_[rs.replica()].speed = rs.speed();
  const TimeNs slow_primary_delay = MsToNs(0.9 * p.pbft().request_timeout_ms());
  for (const auto& b : scenario.byzantine()) {
    for (uint32_t r : b.replicas()) replicas_[r].byzantine.emplace_back(b, slow_primary_delay);
  }
  for (ReplicaHost& h : replicas_) h.base_speed = h.speed;
  BuildTwins(scenario);
}

// A TWIN replica's instance B: the same machine, configuration and keys as its own host (instance
// A), a state machine of its own, and its own stream of randomness.
void Simulation::BuildTwins(const scenario::Scenario& scenario) {
  for (NodeId r = 0; r < topo_.replicas; ++r) {
    const ReplicaHost& a = replicas_[r];
    auto twin = std::find_if(a.byzantine.begin(), a.byzantine.end(), [](const auto& b) { return b.twin(); });
    if (twin == a.byzantine.end()) continue;
    if (twin_index_.empty()) twin_index_.assign(topo_.replicas, -1);
    twin_index_[r] = static_cast<int32_t>(twins_.size());
    Twin& t = twins_.emplace_back();
    t.behaviour = &*twin;
    ReplicaHost& b = t.host;
    b.cluster = a.cluster;
    b.group = a.group;
    b.drop_out_of_order = a.drop_out_of_order;
    b.sm = MakeReplica(scenario, r);
    b.rng = Rng::ForStream(scenario.seed(), StreamKind::kTwin, r);
    b.speed = b.base_speed = a.base_speed;
    b.workers = a.workers;
    b.byzantine = a.byzantine;
  }
}

// Clients, attached to their cluster's region, talking to their cluster's group.
void Simulation::BuildClients(const scenario::Scenario& scenario) {
  const auto& w = scenario.workload();
  clients_.resize(topo_.clients());
  for (uint32_t c = 0; c < clients_.size(); ++c) {
    ClientHost& h = clients_[c];
    NodeId id = topo_.replicas + c;
    ClientConfig cfg;
    h.cluster = c / std::max<uint32_t>(1, topo_.clients_per_cluster);
    cfg.replicas = topo_.groups[topo_.geo ? h.cluster : 0];
    cfg.f = topo_.f;
    cfg.mode = ToLoadMode(w.mode());
    h.idle = std::count(w.idle_clusters().begin(), w.idle_clusters().end(), h.cluster) > 0;
    cfg.outstanding = w.outstanding();
    cfg.count = w.count();
    cfg.payload_size = w.request_size_bytes();
    cfg.retransmit_timeout = MsToNs(w.retransmit_timeout_ms());
    cfg.reply_evidence = topo_.reputation;
    cfg.reply_grace = MsToNs(scenario.protocol().reputation().reply_grace_ms());
    h.sm = std::make_unique<Client>(std::move(cfg), Identity(&keys_, id));
    h.rng = Rng::ForStream(scenario.seed(), StreamKind::kClient, c);
  }
}

}  // namespace geopbft
