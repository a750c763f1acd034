#include "sim/fault_schedule.h"

#include <algorithm>

#include "sim/distribution.h"

namespace geopbft {

FaultSchedule::FaultSchedule(const scenario::Scenario& sc, const RegionCatalog& catalog, std::vector<int> node_region)
    : faults_(sc.faults().begin(), sc.faults().end()), node_region_(std::move(node_region)) {
  const size_t nodes = node_region_.size();
  const TimeNs end = MsToNs(sc.duration_s() * 1e3);
  for (uint32_t i = 0; i < faults_.size(); ++i) {
    const scenario::Fault& f = faults_[i];
    std::vector<uint8_t> side(nodes, 0);
    std::vector<int> a, b;
    for (const std::string& r : f.regions()) a.push_back(catalog.Find(r));
    for (const std::string& r : f.other_regions()) b.push_back(catalog.Find(r));
    if (f.kind() == scenario::Fault::PARTITION) {
      for (uint32_t r : f.replicas()) side[r] = 1;
      for (size_t n = 0; n < nodes; ++n) {
        if (std::count(a.begin(), a.end(), node_region_[n])) side[n] = 1;
      }
      bool explicit_b = f.other_replicas_size() + f.other_regions_size() > 0;
      for (size_t n = 0; n < nodes; ++n) {
        if (side[n] == 1) continue;
        bool in_b = !explicit_b || std::count(b.begin(), b.end(), node_region_[n]) > 0 ||
                    std::count(f.other_replicas().begin(), f.other_replicas().end(), n) > 0;
        if (in_b) side[n] = 2;
      }
    }
    sides_.push_back(std::move(side));
    link_a_.push_back(std::move(a));
    link_b_.push_back(std::move(b));
    transitions_.push_back({MsToNs(f.at_s() * 1e3), i, true});
    if (f.until_s() > 0 && MsToNs(f.until_s() * 1e3) <= end)
      transitions_.push_back({MsToNs(f.until_s() * 1e3), i, false});
  }
  std::stable_sort(transitions_.begin(), transitions_.end(), [](const Transition& x, const Transition& y) {
    return x.at != y.at ? x.at < y.at : (x.start != y.start ? x.start : x.fault < y.fault);
  });
  active_.assign(faults_.size(), false);
}

void FaultSchedule::Apply(const Transition& t) {
  active_[t.fault] = t.start;
  active_order_.erase(std::remove(active_order_.begin(), active_order_.end(), t.fault), active_order_.end());
  if (t.start) active_order_.push_back(t.fault);
}

bool FaultSchedule::Blocked(NodeId a, NodeId b) const {
  for (uint32_t i : active_order_) {
    if (faults_[i].kind() != scenario::Fault::PARTITION) continue;
    if ((sides_[i][a] | sides_[i][b]) == 3) return true;
  }
  return false;
}

const scenario::Fault* FaultSchedule::LinkFault(NodeId a, NodeId b) const {
  if (active_order_.empty()) return nullptr;  // (every message asks; most runs have no fault in force)
  int ra = node_region_[a], rb = node_region_[b];
  auto covers = [](const std::vector<int>& set, int r) {
    return set.empty() || std::count(set.begin(), set.end(), r) > 0;
  };
  for (auto it = active_order_.rbegin(); it != active_order_.rend(); ++it) {
    uint32_t i = *it;
    if (faults_[i].kind() != scenario::Fault::LINK) continue;
    // `replicas` / `other_replicas` narrow an end to those nodes (e.g. one replica's links).
    const scenario::Fault& f = faults_[i];
    auto end_a = [&](NodeId n, int r) {
      return covers(link_a_[i], r) &&
             (f.replicas_size() == 0 || std::count(f.replicas().begin(), f.replicas().end(), n) > 0);
    };
    auto end_b = [&](NodeId n, int r) {
      return covers(link_b_[i], r) &&
             (f.other_replicas_size() == 0 || std::count(f.other_replicas().begin(), f.other_replicas().end(), n) > 0);
    };
    if ((end_a(a, ra) && end_b(b, rb)) || (end_a(b, rb) && end_b(a, ra))) return &f;
  }
  return nullptr;
}

double FaultSchedule::SpeedOf(uint32_t replica, double base) const {
  double speed = base;
  for (size_t i = 0; i < faults_.size(); ++i) {
    const scenario::Fault& g = faults_[i];
    if (active_[i] && g.kind() == scenario::Fault::SLOW &&
        std::count(g.replicas().begin(), g.replicas().end(), replica) > 0) {
      speed = g.speed();
    }
  }
  return speed;
}

}  // namespace geopbft
