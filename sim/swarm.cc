#include "sim/swarm.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_format.h"
#include "sim/distribution.h"
#include "sim/region_catalog.h"
#include "sim/rng.h"
#include "sim/simulation.h"
#include "sim/topology.h"

namespace geopbft {
namespace {

uint32_t Pick(Rng& rng, uint32_t lo, uint32_t hi) { return lo + static_cast<uint32_t>(rng.Below(hi - lo + 1)); }

template <typename T>
T OneOf(Rng& rng, const std::vector<T>& v) {
  return v[rng.Below(v.size())];
}

// The replicas of `group` (ids), shuffled by the seed's stream.
std::vector<uint32_t> Shuffled(Rng& rng, std::vector<uint32_t> ids) {
  for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[rng.Below(i)]);
  return ids;
}

// The drawing, section by section, always in this order: the seed's stream decides everything.
// Topology: 2-3 clusters of 4-7 replicas (flat PBFT: 1-2 clusters, spanned by one group), regions, jitter.
void DrawShape(Rng& rng, bool flat, scenario::Scenario& s) {
  // Small on purpose: a swarm is many short runs, and most bugs need few replicas to show.
  auto* topo = s.mutable_topology();
  const uint32_t clusters = flat ? Pick(rng, 1, 2) : Pick(rng, 2, 3);
  const uint32_t per = Pick(rng, 4, 7);
  topo->set_clusters(clusters);
  topo->set_replicas_per_cluster(per);
  const RegionCatalog& catalog = RegionCatalog::Embedded();
  for (uint32_t c = 0; c < clusters; ++c)
    topo->add_cluster_regions(catalog.name(static_cast<int>(rng.Below(catalog.size()))));
  if (rng.Below(2)) {
    auto* j = s.mutable_network()->mutable_jitter();
    j->set_kind(scenario::Distribution::NORMAL);
    j->set_sd_ms(rng.Uniform(0.1, 3));
  }
}

void DrawProtocol(Rng& rng, scenario::Protocol::Kind kind, scenario::Scenario& s) {
  auto* p = s.mutable_protocol();
  p->set_kind(kind);
  p->set_batch_size(OneOf<uint32_t>(rng, {1, 5, 20, 100}));
  p->set_batch_timeout_ms(OneOf<double>(rng, {1, 5, 10}));
  p->set_window(OneOf<uint32_t>(rng, {16, 32, 64}));
  p->mutable_pbft()->set_checkpoint_interval(OneOf<uint32_t>(rng, {4, 8, 16}));
  p->mutable_pbft()->set_request_timeout_ms(OneOf<double>(rng, {500, 1000, 2000}));
  p->mutable_geobft()->set_remote_timeout_ms(OneOf<double>(rng, {1000, 2000}));
  if (kind == scenario::Protocol::GEOBFT_REPUTATION)
    p->mutable_reputation()->set_reselect_every(OneOf<uint32_t>(rng, {4, 8, 16}));
}

void DrawWorkload(Rng& rng, scenario::Scenario& s) {
  auto* w = s.mutable_workload();
  w->set_mode(scenario::Workload::CLOSED_LOOP);
  w->set_clients_per_cluster(Pick(rng, 1, 2));
  w->set_outstanding(Pick(rng, 1, 12));
  w->set_request_size_bytes(64);
  w->set_retransmit_timeout_ms(OneOf<double>(rng, {1000, 2000}));
}

void DrawReplicaFaults(Rng& rng, scenario::Protocol::Kind kind, const SwarmOptions& o, scenario::Scenario& s) {
  // Fault groups: the flat group, or each cluster. Byzantine replicas and crashed ones together
  // stay within f of their group (liveness mode), so the protocol owes both safety and progress.
  const std::vector<std::vector<NodeId>> groups = Topology::FromScenario(s).groups;
  const double heal = kSwarmHealS;
  std::vector<scenario::Byzantine::Behaviour> behaviours = {
      scenario::Byzantine::SILENT, scenario::Byzantine::VOTE_AGAINST, scenario::Byzantine::EQUIVOCATE,
      scenario::Byzantine::SLOW_PRIMARY};
  if (kind == scenario::Protocol::GEOBFT_REPUTATION) behaviours.push_back(scenario::Byzantine::LYING_EVIDENCE);
  for (const std::vector<NodeId>& g : groups) {
    const uint32_t f = (static_cast<uint32_t>(g.size()) - 1) / 3;
    std::vector<uint32_t> order = Shuffled(rng, g);
    const uint32_t byz = static_cast<uint32_t>(rng.Below(f + 1));
    const uint32_t crash_budget = o.safety_only ? static_cast<uint32_t>(g.size()) - byz : f - byz;
    const uint32_t crashes = crash_budget == 0 ? 0 : static_cast<uint32_t>(rng.Below(crash_budget + 1));
    for (uint32_t i = 0; i < byz; ++i) {
      auto* b = s.add_byzantine();
      b->add_replicas(order[i]);
      b->set_behaviour(OneOf(rng, behaviours));
      if (rng.Below(3) == 0) b->set_from_s(rng.Uniform(0.5, heal));  // a turncoat
    }
    for (uint32_t i = byz; i < byz + crashes && i < order.size(); ++i) {
      auto* f = s.add_faults();
      f->set_kind(scenario::Fault::CRASH);
      f->add_replicas(order[i]);
      const double at = rng.Uniform(0.2, heal - 0.5);
      f->set_at_s(at);
      // Liveness mode: back by heal. Safety-only: maybe never.
      if (!o.safety_only || rng.Below(2)) f->set_until_s(rng.Uniform(at + 0.1, heal));
    }
  }
}

void DrawNetworkFaults(Rng& rng, const SwarmOptions& o, scenario::Scenario& s) {
  const double heal = kSwarmHealS;
  const uint32_t total = s.topology().clusters() * s.topology().replicas_per_cluster();
  // Benign network faults on honest and faulty replicas alike, all healed by heal_s (liveness mode).
  const uint32_t network_faults = static_cast<uint32_t>(rng.Below(3));
  for (uint32_t i = 0; i < network_faults; ++i) {
    auto* f = s.add_faults();
    const double at = rng.Uniform(0.2, heal - 0.5);
    f->set_at_s(at);
    if (!o.safety_only || rng.Below(2)) f->set_until_s(rng.Uniform(at + 0.1, heal));
    std::vector<uint32_t> side = Shuffled(rng, [&] {
      std::vector<uint32_t> all;
      for (uint32_t r = 0; r < total; ++r) all.push_back(r);
      return all;
    }());
    side.resize(1 + rng.Below(std::max<uint32_t>(1, total / 2)));
    switch (rng.Below(3)) {
      case 0:
        f->set_kind(scenario::Fault::PARTITION);  // `side` against everyone else
        for (uint32_t r : side) f->add_replicas(r);
        break;
      case 1:
        f->set_kind(scenario::Fault::LINK);
        for (uint32_t r : side) f->add_replicas(r);
        // A lossy link, a network phase (the links slower for a while: asynchrony, or a delayed
        // leader when `side` holds one), or both.
        switch (rng.Below(3)) {
          case 0:
            f->set_loss_ratio(rng.Uniform(0.01, 0.3));
            break;
          case 1:
            f->set_extra_delay_ms(rng.Uniform(20, 600));
            break;
          default:
            f->set_loss_ratio(rng.Uniform(0.01, 0.3));
            f->set_extra_delay_ms(rng.Uniform(20, 600));
            break;
        }
        break;
      default:
        f->set_kind(scenario::Fault::SLOW);
        for (uint32_t r : side) f->add_replicas(r);
        f->set_speed(rng.Uniform(0.2, 0.9));
        break;
    }
  }
}

// Twins, drawn last (so a seed draws everything before them as it did before twins existed): in a
// group with room left under f (Byzantine and, in liveness mode, crashed replicas count), perhaps
// twin replicas that are neither, each split for a while from a random half of the others.
void DrawTwins(Rng& rng, const SwarmOptions& o, scenario::Scenario& s) {
  const std::vector<std::vector<NodeId>> groups = Topology::FromScenario(s).groups;
  const uint32_t total = s.topology().clusters() * s.topology().replicas_per_cluster();
  std::vector<bool> taken(total, false);
  for (const auto& b : s.byzantine()) {
    for (uint32_t r : b.replicas()) taken[r] = true;
  }
  std::vector<bool> crashed(total, false);
  for (const auto& f : s.faults()) {
    if (f.kind() != scenario::Fault::CRASH) continue;
    for (uint32_t r : f.replicas()) crashed[r] = true;
  }
  for (const std::vector<NodeId>& g : groups) {
    const uint32_t f = (static_cast<uint32_t>(g.size()) - 1) / 3;
    uint32_t used = 0;
    std::vector<uint32_t> free;
    for (NodeId r : g) {
      used += taken[r] || (crashed[r] && !o.safety_only);
      if (!taken[r] && !crashed[r]) free.push_back(r);
    }
    if (used >= f || free.empty() || rng.Below(2) == 0) continue;
    const std::vector<uint32_t> order = Shuffled(rng, free);
    const uint32_t twins = std::min<uint32_t>(1 + static_cast<uint32_t>(rng.Below(f - used)), order.size());
    for (uint32_t i = 0; i < twins; ++i) {
      auto* b = s.add_byzantine();
      b->add_replicas(order[i]);
      b->set_behaviour(scenario::Byzantine::TWIN);
      const double from = rng.Uniform(0, kSwarmHealS - 0.5);
      b->set_from_s(from);
      if (!o.safety_only || rng.Below(2)) b->set_until_s(rng.Uniform(from + 0.1, kSwarmHealS));
      for (uint32_t r = 0; r < total; ++r) {
        if (r != order[i] && rng.Below(2)) b->add_twin_side(r);
      }
    }
  }
}

// When the last benign fault of a drawn scenario ends: crashes, partitions, slow or lossy links,
// and twins' splits (0: none).
TimeNs LastHeal(const scenario::Scenario& s) {
  double last = 0;
  for (const auto& f : s.faults()) last = std::max(last, f.until_s());
  for (const auto& b : s.byzantine()) {
    if (b.behaviour() == scenario::Byzantine::TWIN) last = std::max(last, b.until_s());
  }
  return MsToNs(last * 1e3);
}

// How soon after the last heal every cluster must complete requests again: two of the longest
// timeouts the swarm draws (request, client retransmission and remote timeouts go up to 2 s), for
// every seed. Not two of the seed's own: a client whose requests were lost in a long fault re-sends
// on its back-off (doubling up to 8 x its timeout), so with 1 s timeouts recoveries of 2.5-3.2 s
// happen without a bug (5 of the first 6,500 fresh GeoBFT seeds from 1000001).
constexpr TimeNs kRecoveryBound = 4 * kSecond;
static_assert(kRecoveryBound <= static_cast<TimeNs>(kSwarmLivenessS * kSecond), "the run must outlast the bound");

// The first request each cluster's clients complete from `after` on.
class RecoveryWatch : public Observer {
 public:
  RecoveryWatch(TimeNs after, uint32_t clusters) : after_(after), first_(clusters, -1) {}
  uint32_t interests() const override { return kClientSteps; }
  void OnClientStep(TimeNs now, const ClientStep& s) override {
    if (now >= after_ && !s.fx.completions.empty() && first_[s.cluster] < 0) first_[s.cluster] = now;
  }
  // The last cluster to complete one, and when (-1: a cluster completed none).
  std::pair<uint32_t, TimeNs> Slowest() const {
    std::pair<uint32_t, TimeNs> worst{0, 0};
    for (uint32_t c = 0; c < first_.size(); ++c) {
      if (first_[c] < 0) return {c, -1};
      if (first_[c] > worst.second) worst = {c, first_[c]};
    }
    return worst;
  }

 private:
  TimeNs after_;
  std::vector<TimeNs> first_;
};

}  // namespace

scenario::Scenario DrawSwarmScenario(uint64_t seed, const SwarmOptions& o) {
  Rng rng(Mix64(seed ^ 0x5741524d53454544ULL));  // the swarm's own stream: "SWARMSEED"
  scenario::Scenario s;
  s.set_name(absl::StrFormat("swarm-%d", seed));
  s.set_description("drawn by ./geopbft swarm");
  s.set_seed(seed);
  s.set_duration_s(kSwarmDurationS);

  std::vector<scenario::Protocol::Kind> kinds = o.protocols;
  if (kinds.empty())
    kinds = {scenario::Protocol::PBFT, scenario::Protocol::GEOBFT, scenario::Protocol::GEOBFT_REPUTATION};
  const scenario::Protocol::Kind kind = OneOf(rng, kinds);
  DrawShape(rng, kind == scenario::Protocol::PBFT, s);
  DrawProtocol(rng, kind, s);
  DrawWorkload(rng, s);
  DrawReplicaFaults(rng, kind, o, s);
  DrawNetworkFaults(rng, o, s);
  DrawTwins(rng, o, s);
  s.mutable_checks()->set_expect_liveness(false);          // judged here, after healing
  s.mutable_checks()->set_stall_after_s(kSwarmDurationS);  // run to the end: recovery may come late
  if (o.planted_bug != scenario::Checks::NO_BUG) s.mutable_checks()->set_planted_bug(o.planted_bug);
  return s;
}

SwarmVerdict RunSwarmScenario(const scenario::Scenario& s, const SwarmOptions& o) {
  SwarmVerdict v;
  Simulation sim(s, s.crypto().mode() == scenario::Crypto::REAL ? CryptoMode::kReal : CryptoMode::kFast);
  const TimeNs healed = LastHeal(s);
  RecoveryWatch recovery(healed, s.topology().clusters());
  sim.AddObserver(&recovery);
  sim.Run();
  v.digest = sim.trace_digest();
  v.events = sim.events();
  if (sim.safety_violations() > 0) {
    v.ok = false;
    v.failure = "safety: " + sim.first_violation();
    return v;
  }
  if (sim.bound_violations() > 0) {
    v.ok = false;
    v.failure = "bounds: " + sim.first_bound_violation();
    return v;
  }
  if (o.safety_only) return v;
  // Liveness, promptly: every cluster's clients complete a request within the recovery bound of
  // the last heal ...
  const TimeNs bound = kRecoveryBound;
  if (auto [cluster, at] = recovery.Slowest(); at < 0 || at > healed + bound) {
    v.ok = false;
    v.failure = absl::StrFormat(
        "liveness: cluster %d completed no request within %.1f s (two of the longest timeouts) of the last "
        "heal at %.3f s%s",
        cluster, static_cast<double>(bound) / kSecond, static_cast<double>(healed) / kSecond,
        at < 0 ? "" : absl::StrFormat(" (its first came %.3f s after it)", static_cast<double>(at - healed) / kSecond));
    return v;
  }
  // ... and keep completing (the last 2 s of the run, which ends kSwarmLivenessS after healing).
  uint64_t at_end = 0;
  for (const IntervalSample& x : sim.samples()) {
    if (x.time_s > kSwarmDurationS - 2 + 1e-9) at_end += x.completed;
  }
  if (at_end == 0) {
    v.ok = false;
    v.failure = absl::StrFormat("liveness: no request completed in the last 2 s, %.0f s after every fault healed",
                                kSwarmLivenessS);
  }
  return v;
}

}  // namespace geopbft
