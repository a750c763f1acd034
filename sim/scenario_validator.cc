#include "sim/scenario_validator.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "protocol/quorum.h"
#include "sim/region_catalog.h"
#include "sim/scenario_loader.h"

namespace geopbft {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

// Semantic checks, each located at the field that is wrong (or its closest written ancestor).
class Validator {
 public:
  Validator(const scenario::Scenario& s, const std::string& path, const TextFormat::ParseInfoTree* tree,
            std::vector<std::string>* errors)
      : s_(s), path_(path), tree_(tree), errors_(errors) {}

  void Run();

 private:
  struct Step {
    const char* field;
    int index = -1;
  };
  void Error(std::initializer_list<Step> where, const std::string& message);
  void CheckDistribution(std::initializer_list<Step> where, const scenario::Distribution& d);
  // One section of the scenario each (Run() works out n_, group_ and catalog_ first).
  void CheckTopology();
  void CheckNetwork();
  void CheckProtocol();
  void CheckWorkload();
  void CheckCpu();
  void CheckFaults();
  void CheckByzantine();
  void CheckTwin(int i);

  const scenario::Scenario& s_;
  std::string path_;
  const TextFormat::ParseInfoTree* tree_;
  std::vector<std::string>* errors_;
  uint32_t n_ = 0, group_ = 0;  // replicas in all, per PBFT group
  RegionCatalog catalog_;
};

void Validator::Error(std::initializer_list<Step> where, const std::string& message) {
  int line = 0, col = 0;
  const Descriptor* desc = scenario::Scenario::descriptor();
  const TextFormat::ParseInfoTree* tree = tree_;
  for (const Step& step : where) {
    if (desc == nullptr || tree == nullptr) break;
    const FieldDescriptor* field = desc->FindFieldByName(step.field);
    if (field == nullptr) break;
    int index = field->is_repeated() ? std::max(step.index, 0) : -1;
    TextFormat::ParseLocation loc = tree->GetLocation(field, index);
    // Elements of a list written as [a, b, c] have no location of their own: point at the list.
    if (loc.line < 0 && index > 0) loc = tree->GetLocation(field, 0);
    if (loc.line < 0) break;
    line = loc.line;
    col = loc.column;
    tree = field->type() == FieldDescriptor::TYPE_MESSAGE ? tree->GetTreeForNested(field, index) : nullptr;
    desc = field->message_type();
  }
  errors_->push_back(absl::StrFormat("%s:%d:%d: %s", path_, line + 1, col + 1, message));
}

void Validator::CheckDistribution(std::initializer_list<Step> where, const scenario::Distribution& d) {
  if (d.mean_ms() < 0 || !std::isfinite(d.mean_ms())) Error(where, "distribution mean_ms must be >= 0");
  if (d.sd_ms() < 0 || !std::isfinite(d.sd_ms())) Error(where, "distribution sd_ms must be >= 0");
  if (d.kind() == scenario::Distribution::UNIFORM && !(d.min_ms() >= 0 && d.min_ms() <= d.max_ms())) {
    Error(where, "uniform distribution needs 0 <= min_ms <= max_ms");
  }
  if (d.kind() == scenario::Distribution::EXPONENTIAL && d.mean_ms() <= 0) {
    Error(where, "exponential distribution needs mean_ms > 0");
  }
}

void Validator::Run() {
  if (!(s_.duration_s() > 0 && s_.duration_s() <= 1e6)) {
    Error({{"duration_s"}}, "duration_s must be in (0, 1e6] seconds");
  }

  n_ = TotalReplicas(s_);
  group_ = GroupSize(s_);
  catalog_ = s_.network().regions_size() > 0 ? RegionCatalog::FromScenario(s_.network()) : RegionCatalog::Embedded();
  CheckTopology();
  CheckNetwork();
  CheckProtocol();
  CheckWorkload();
  CheckCpu();
  CheckFaults();
  CheckByzantine();
  if (!(s_.checks().stall_after_s() > 0)) Error({{"checks"}, {"stall_after_s"}}, "checks.stall_after_s must be > 0");
  if (!(s_.metrics().interval_s() > 0)) Error({{"metrics"}, {"interval_s"}}, "metrics.interval_s must be > 0");
}

void Validator::CheckTopology() {
  [[maybe_unused]] const auto& topo = s_.topology();
  [[maybe_unused]] const uint32_t n = n_;
  [[maybe_unused]] const uint32_t group = group_;
  // Topology.
  if (topo.clusters() < 1 || topo.clusters() > 1000) {
    Error({{"topology"}, {"clusters"}}, "topology.clusters must be between 1 and 1000");
  }
  if (topo.replicas_per_cluster() < 1 || topo.replicas_per_cluster() > 10000) {
    Error({{"topology"}, {"replicas_per_cluster"}}, "topology.replicas_per_cluster must be between 1 and 10000");
  }
  if (topo.f() > 0 && !GroupCanTolerate(group, topo.f())) {
    Error({{"topology"}, {"f"}},
          absl::StrFormat("a group of n=%d replicas cannot tolerate f=%d: PBFT needs n >= 3f+1 = %d", group, topo.f(),
                          3 * topo.f() + 1));
  }
}

void Validator::CheckNetwork() {
  [[maybe_unused]] const auto& topo = s_.topology();
  [[maybe_unused]] const RegionCatalog& catalog = catalog_;
  // Regions.
  const auto& net = s_.network();
  std::set<std::string> seen;
  for (int i = 0; i < net.regions_size(); ++i) {
    const std::string& name = net.regions(i).name();
    if (name.empty()) Error({{"network"}, {"regions", i}}, "region needs a name");
    if (!seen.insert(name).second) Error({{"network"}, {"regions", i}}, "region '" + name + "' defined twice");
  }
  for (int i = 0; i < net.links_size(); ++i) {
    const auto& l = net.links(i);
    if (net.regions_size() == 0) {
      Error({{"network"}, {"links", i}}, "network.links needs network.regions (a custom catalog)");
      break;
    }
    if (catalog.Find(l.a()) < 0) Error({{"network"}, {"links", i}}, "unknown region '" + l.a() + "' in link");
    if (catalog.Find(l.b()) < 0) Error({{"network"}, {"links", i}}, "unknown region '" + l.b() + "' in link");
    if (!(l.rtt_ms() >= 0)) Error({{"network"}, {"links", i}}, "link rtt_ms must be >= 0");
    if (!(l.bandwidth_mbps() > 0)) Error({{"network"}, {"links", i}}, "link bandwidth_mbps must be > 0");
  }
  std::vector<int> used;
  if (topo.cluster_regions_size() > 0) {
    if (static_cast<uint32_t>(topo.cluster_regions_size()) != topo.clusters()) {
      Error({{"topology"}, {"cluster_regions"}},
            absl::StrFormat("topology.cluster_regions names %d regions for %d clusters", topo.cluster_regions_size(),
                            topo.clusters()));
    }
    for (int i = 0; i < topo.cluster_regions_size(); ++i) {
      int r = catalog.Find(topo.cluster_regions(i));
      if (r < 0) {
        std::string known;
        for (size_t k = 0; k < catalog.size(); ++k) absl::StrAppend(&known, k ? ", " : "", catalog.name(k));
        Error({{"topology"}, {"cluster_regions", i}},
              absl::StrFormat("unknown region '%s' (known: %s)", topo.cluster_regions(i), known));
      } else {
        used.push_back(r);
      }
    }
  } else if (topo.clusters() > catalog.size()) {
    Error({{"topology"}, {"clusters"}},
          absl::StrFormat("%d clusters but the region catalog has only %d regions; name them in "
                          "topology.cluster_regions (regions may repeat)",
                          topo.clusters(), catalog.size()));
  } else {
    for (uint32_t i = 0; i < topo.clusters(); ++i) used.push_back(static_cast<int>(i));
  }
  if (net.regions_size() > 0 && !net.has_uniform_delay()) {
    for (size_t i = 0; i < used.size(); ++i) {
      for (size_t j = i + 1; j < used.size(); ++j) {
        if (used[i] != used[j] && catalog.rtt_ms(used[i], used[j]) < 0) {
          Error({{"network"}}, absl::StrFormat("no link between regions '%s' and '%s' in network.links",
                                               catalog.name(used[i]), catalog.name(used[j])));
        }
      }
    }
  }
  if (net.has_uniform_delay()) CheckDistribution({{"network"}, {"uniform_delay"}}, net.uniform_delay());
  if (net.has_jitter()) CheckDistribution({{"network"}, {"jitter"}}, net.jitter());
  if (!(net.loss_ratio() >= 0 && net.loss_ratio() < 1)) {
    Error({{"network"}, {"loss_ratio"}}, "network.loss_ratio must be in [0, 1)");
  }
  if (!(net.nic_bandwidth_mbps() >= 0 && std::isfinite(net.nic_bandwidth_mbps()))) {
    Error({{"network"}, {"nic_bandwidth_mbps"}},
          "network.nic_bandwidth_mbps must be >= 0 (0: the intra-region figure)");
  }
  if (!(net.uniform_bandwidth_mbps() >= 0)) {
    Error({{"network"}, {"uniform_bandwidth_mbps"}}, "network.uniform_bandwidth_mbps must be >= 0");
  }
  if (!(net.intra_region_rtt_ms() >= 0)) Error({{"network"}, {"intra_region_rtt_ms"}}, "must be >= 0");
  if (!(net.intra_region_bandwidth_mbps() > 0)) {
    Error({{"network"}, {"intra_region_bandwidth_mbps"}}, "must be > 0");
  }
}

void Validator::CheckProtocol() {
  [[maybe_unused]] const uint32_t group = group_;
  // Protocol.
  const auto& p = s_.protocol();
  if (p.batch_size() < 1) Error({{"protocol"}, {"batch_size"}}, "protocol.batch_size must be >= 1");
  if (!(p.batch_timeout_ms() >= 0))
    Error({{"protocol"}, {"batch_timeout_ms"}}, "protocol.batch_timeout_ms must be >= 0");
  if (p.window() < 1) Error({{"protocol"}, {"window"}}, "protocol.window must be >= 1");
  if (p.pbft().checkpoint_interval() < 1 || p.pbft().checkpoint_interval() > p.window()) {
    Error({{"protocol"}, {"pbft"}, {"checkpoint_interval"}},
          absl::StrFormat("protocol.pbft.checkpoint_interval must be between 1 and protocol.window (%d)", p.window()));
  }
  if (!(p.geobft().remote_timeout_ms() > 0)) {
    Error({{"protocol"}, {"geobft"}, {"remote_timeout_ms"}}, "protocol.geobft.remote_timeout_ms must be > 0");
  }
  if (p.kind() != scenario::Protocol::PBFT && p.pbft().drop_out_of_order()) {
    Error({{"protocol"}, {"pbft"}, {"drop_out_of_order"}}, "the legacy drop_out_of_order switch is for flat PBFT only");
  }
  if (p.pbft().vote_auth() == scenario::Pbft::MACS && (p.kind() != scenario::Protocol::PBFT || UsesReputation(s_))) {
    Error({{"protocol"}, {"pbft"}, {"vote_auth"}},
          "MAC-authenticated COMMITs are for flat PBFT without reputation: GeoBFT's certificates and "
          "reputation's evidence carry COMMITs to replicas outside the authenticator, who need signatures");
  }
  if (!(p.pbft().request_timeout_ms() > 0)) {
    Error({{"protocol"}, {"pbft"}, {"request_timeout_ms"}}, "protocol.pbft.request_timeout_ms must be > 0");
  }
  if (UsesReputation(s_)) {
    const auto& r = p.reputation();
    const uint32_t group = GroupSize(s_), f = GroupFaults(s_);
    if (r.committee_size() != 0 && (r.committee_size() < 3 * f + 1 || r.committee_size() > group)) {
      Error({{"protocol"}, {"reputation"}, {"committee_size"}},
            absl::StrFormat("protocol.reputation.committee_size must be 0 (3f+1) or between "
                            "3f+1 = %d and the group size %d",
                            3 * f + 1, group));
    }
    if (r.reselect_every() < 1)
      Error({{"protocol"}, {"reputation"}, {"reselect_every"}}, "protocol.reputation.reselect_every must be >= 1");
    if (r.complaint_rounds() < 1)
      Error({{"protocol"}, {"reputation"}, {"complaint_rounds"}}, "protocol.reputation.complaint_rounds must be >= 1");
    if (r.complaint_commit_slots() < 1) {
      Error({{"protocol"}, {"reputation"}, {"complaint_commit_slots"}},
            "protocol.reputation.complaint_commit_slots must be >= 1");
    }
    if (!(r.complaint_lag_ms() > 0))
      Error({{"protocol"}, {"reputation"}, {"complaint_lag_ms"}}, "protocol.reputation.complaint_lag_ms must be > 0");
    if (!(r.complaint_commit_lag_ms() > 0)) {
      Error({{"protocol"}, {"reputation"}, {"complaint_commit_lag_ms"}},
            "protocol.reputation.complaint_commit_lag_ms must be > 0");
    }
    if (!(r.seat_margin() >= 0))
      Error({{"protocol"}, {"reputation"}, {"seat_margin"}}, "protocol.reputation.seat_margin must be >= 0");
    if (!(r.consensus_weight() >= 0 && r.consensus_weight() <= 1)) {
      Error({{"protocol"}, {"reputation"}, {"consensus_weight"}},
            "protocol.reputation.consensus_weight must be between 0 and 1");
    }
    if (!(r.history_weight() >= 0 && r.history_weight() <= 1)) {
      Error({{"protocol"}, {"reputation"}, {"history_weight"}},
            "protocol.reputation.history_weight must be between 0 and 1");
    }
    if (!(r.history_decay() >= 0 && r.history_decay() < 1)) {
      Error({{"protocol"}, {"reputation"}, {"history_decay"}}, "protocol.reputation.history_decay must be in [0, 1)");
    }
    if (!(r.consensus_cap() > 0) || !(r.transaction_cap() > 0)) {
      Error({{"protocol"}, {"reputation"}, {r.consensus_cap() > 0 ? "transaction_cap" : "consensus_cap"}},
            "score caps must be > 0");
    }
    if (!(r.initial_score() >= 0) || r.initial_score() > std::min(r.consensus_cap(), r.transaction_cap())) {
      Error({{"protocol"}, {"reputation"}, {"initial_score"}},
            "protocol.reputation.initial_score must be between 0 and the caps");
    }
    for (const char* field : {"agree_reward", "miss_penalty", "against_penalty", "view_change_penalty", "reply_reward",
                              "reply_penalty", "reply_grace_ms", "eviction_threshold"}) {
      const auto* fd = scenario::Reputation::descriptor()->FindFieldByName(field);
      if (!(scenario::Reputation::GetReflection()->GetDouble(r, fd) >= 0))
        Error({{"protocol"}, {"reputation"}, {field}}, absl::StrCat(field, " must be >= 0"));
    }
  }
}

void Validator::CheckWorkload() {
  [[maybe_unused]] const auto& topo = s_.topology();
  // Workload.
  const auto& w = s_.workload();
  if (w.mode() == scenario::Workload::CLOSED_LOOP && w.outstanding() < 1) {
    Error({{"workload"}, {"outstanding"}}, "a closed-loop client needs outstanding >= 1");
  }
  if (w.mode() == scenario::Workload::OPEN_LOOP && !(w.rate_per_client_tps() > 0)) {
    Error({{"workload"}, {"rate_per_client_tps"}}, "an open-loop client needs rate_per_client_tps > 0");
  }
  if (w.mode() == scenario::Workload::FIXED_COUNT && w.count() < 1) {
    Error({{"workload"}, {"count"}}, "a fixed-count client needs count >= 1");
  }
  if (!(w.retransmit_timeout_ms() > 0)) {
    Error({{"workload"}, {"retransmit_timeout_ms"}}, "workload.retransmit_timeout_ms must be > 0");
  }
  if (w.clients_per_cluster() > 100000) {
    Error({{"workload"}, {"clients_per_cluster"}}, "workload.clients_per_cluster must be <= 100000");
  }

  for (int i = 0; i < w.idle_clusters_size(); ++i) {
    if (w.idle_clusters(i) >= topo.clusters()) {
      Error({{"workload"}, {"idle_clusters", i}}, absl::StrFormat("unknown cluster %d", w.idle_clusters(i)));
    }
  }
}

void Validator::CheckCpu() {
  [[maybe_unused]] const uint32_t n = n_;
  // CPU.
  const auto& c = s_.cpu();
  for (const char* field : {"base_us", "per_byte_ns", "sign_us", "verify_us", "mac_us", "hash_ns_per_byte"}) {
    const FieldDescriptor* fd = scenario::Cpu::descriptor()->FindFieldByName(field);
    double v = c.GetReflection()->GetDouble(c, fd);
    if (!(v >= 0 && std::isfinite(v))) Error({{"cpu"}, {field}}, absl::StrCat("cpu.", field, " must be >= 0"));
  }
  if (!(c.speed() > 0)) Error({{"cpu"}, {"speed"}}, "cpu.speed must be > 0");
  if (c.cores() < 1 || c.cores() > 1024) Error({{"cpu"}, {"cores"}}, "cpu.cores must be between 1 and 1024");
  for (int i = 0; i < c.replica_speed_size(); ++i) {
    if (c.replica_speed(i).replica() >= n) {
      Error({{"cpu"}, {"replica_speed", i}},
            absl::StrFormat("unknown replica %d (replicas are 0..%d)", c.replica_speed(i).replica(), n - 1));
    }
    if (!(c.replica_speed(i).speed() > 0)) Error({{"cpu"}, {"replica_speed", i}}, "speed must be > 0");
  }
}

void Validator::CheckFaults() {
  [[maybe_unused]] const uint32_t n = n_;
  [[maybe_unused]] const RegionCatalog& catalog = catalog_;
  // Fault schedule.
  for (int i = 0; i < s_.faults_size(); ++i) {
    const scenario::Fault& f = s_.faults(i);
    if (!(f.at_s() >= 0)) Error({{"faults", i}, {"at_s"}}, "fault at_s must be >= 0");
    if (f.until_s() != 0 && !(f.until_s() > f.at_s())) {
      Error({{"faults", i}, {"until_s"}},
            absl::StrFormat("fault ends (until_s %g) before it starts (at_s %g)", f.until_s(), f.at_s()));
    }
    for (int k = 0; k < f.replicas_size(); ++k) {
      if (f.replicas(k) >= n) {
        Error({{"faults", i}, {"replicas", k}},
              absl::StrFormat("unknown replica %d (replicas are 0..%d)", f.replicas(k), n - 1));
      }
    }
    for (int k = 0; k < f.other_replicas_size(); ++k) {
      if (f.other_replicas(k) >= n) {
        Error({{"faults", i}, {"other_replicas", k}},
              absl::StrFormat("unknown replica %d (replicas are 0..%d)", f.other_replicas(k), n - 1));
      }
    }
    for (int k = 0; k < f.regions_size(); ++k) {
      if (catalog.Find(f.regions(k)) < 0)
        Error({{"faults", i}, {"regions", k}}, "unknown region '" + f.regions(k) + "'");
    }
    for (int k = 0; k < f.other_regions_size(); ++k) {
      if (catalog.Find(f.other_regions(k)) < 0) {
        Error({{"faults", i}, {"other_regions", k}}, "unknown region '" + f.other_regions(k) + "'");
      }
    }
    switch (f.kind()) {
      case scenario::Fault::CRASH:
      case scenario::Fault::SLOW:
        if (f.replicas_size() == 0) Error({{"faults", i}}, "a CRASH or SLOW fault needs replicas");
        if (f.kind() == scenario::Fault::SLOW && !(f.speed() > 0))
          Error({{"faults", i}, {"speed"}}, "speed must be > 0");
        break;
      case scenario::Fault::PARTITION:
        if (f.replicas_size() + f.regions_size() == 0) {
          Error({{"faults", i}}, "a PARTITION needs side A: replicas and/or regions");
        }
        break;
      case scenario::Fault::LINK:
        if (!(f.loss_ratio() >= 0 && f.loss_ratio() < 1))
          Error({{"faults", i}, {"loss_ratio"}}, "loss_ratio must be in [0, 1)");
        if (f.has_jitter()) CheckDistribution({{"faults", i}, {"jitter"}}, f.jitter());
        if (!(f.extra_delay_ms() >= 0 && f.extra_delay_ms() <= 3.6e6))
          Error({{"faults", i}, {"extra_delay_ms"}}, "extra_delay_ms must be in [0, 3600000] (an hour)");
        break;
    }
  }
}

void Validator::CheckByzantine() {
  [[maybe_unused]] const uint32_t n = n_;
  for (int i = 0; i < s_.byzantine_size(); ++i) {
    const scenario::Byzantine& b = s_.byzantine(i);
    if (b.replicas_size() == 0) Error({{"byzantine", i}}, "a byzantine entry needs replicas");
    for (int k = 0; k < b.replicas_size(); ++k) {
      if (b.replicas(k) >= n) {
        Error({{"byzantine", i}, {"replicas", k}},
              absl::StrFormat("unknown replica %d (replicas are 0..%d)", b.replicas(k), n - 1));
      }
    }
    if (!(b.from_s() >= 0)) Error({{"byzantine", i}, {"from_s"}}, "from_s must be >= 0");
    if (b.until_s() != 0 && !(b.until_s() > b.from_s())) {
      Error({{"byzantine", i}, {"until_s"}}, "byzantine behaviour ends (until_s) before it starts (from_s)");
    }
    if (!(b.delay_ms() >= 0)) Error({{"byzantine", i}, {"delay_ms"}}, "delay_ms must be >= 0");
    CheckTwin(i);
  }
}

// A twin is two honest instances: nothing else can be layered on it, and its split needs a side.
void Validator::CheckTwin(int i) {
  const scenario::Byzantine& b = s_.byzantine(i);
  if (b.behaviour() != scenario::Byzantine::TWIN) {
    if (b.twin_side_size() > 0) Error({{"byzantine", i}, {"twin_side"}}, "twin_side is for behaviour TWIN only");
    return;
  }
  if (b.from_round() != 0) Error({{"byzantine", i}, {"from_round"}}, "a TWIN splits by time (from_s), not by round");
  for (int k = 0; k < b.twin_side_size(); ++k) {
    const uint32_t r = b.twin_side(k);
    if (r >= n_) {
      Error({{"byzantine", i}, {"twin_side", k}},
            absl::StrFormat("unknown replica %d (replicas are 0..%d)", r, n_ - 1));
    } else if (std::count(b.replicas().begin(), b.replicas().end(), r) > 0) {
      Error({{"byzantine", i}, {"twin_side", k}}, absl::StrFormat("replica %d cannot sit beside its own twin", r));
    }
  }
  // Any other entry naming one of these replicas would give the twin a behaviour it does not have.
  for (int j = 0; j < s_.byzantine_size(); ++j) {
    if (j == i) continue;
    for (uint32_t r : s_.byzantine(j).replicas()) {
      if (std::count(b.replicas().begin(), b.replicas().end(), r) > 0) {
        Error({{"byzantine", j}, {"replicas"}},
              absl::StrFormat(
                  "replica %d is a TWIN (byzantine %d): its instances are honest, it takes no other behaviour", r, i));
        return;
      }
    }
  }
}

}  // namespace

void ValidateScenario(const scenario::Scenario& s, const std::string& path, const TextFormat::ParseInfoTree* tree,
                      std::vector<std::string>* errors) {
  Validator(s, path, tree, errors).Run();
}

}  // namespace geopbft
