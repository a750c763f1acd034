#include "sim/network.h"

#include <algorithm>

#include "sim/distribution.h"

namespace geopbft {

Network::Network(const scenario::Network& config, RegionCatalog catalog, std::vector<int> node_region)
    : config_(config),
      catalog_(std::move(catalog)),
      node_region_(std::move(node_region)),
      uniform_(config.has_uniform_delay()) {
  size_t r = catalog_.size();
  one_way_.assign(r * r, 0);
  ns_per_byte_.assign(r * r, 0);
  for (size_t a = 0; a < r; ++a) {
    for (size_t b = 0; b < r; ++b) {
      int ia = static_cast<int>(a), ib = static_cast<int>(b);
      double rtt = catalog_.rtt_ms(ia, ib), bw = catalog_.bandwidth_mbps(ia, ib);
      if (a == b && rtt < 0) rtt = config_.intra_region_rtt_ms();
      if (a == b && bw <= 0) bw = config_.intra_region_bandwidth_mbps();
      if (uniform_) bw = config_.uniform_bandwidth_mbps();
      one_way_[a * r + b] = MsToNs(std::max(0.0, rtt) / 2);
      // bytes * 8 bits / (Mbit/s * 1e6) seconds = bytes * 8000 / Mbit/s nanoseconds.
      ns_per_byte_[a * r + b] = bw > 0 ? 8000.0 / bw : 0;
    }
  }
  nodes_ = node_region_.size();
  nic_ns_per_byte_.assign(nodes_, 0);
  for (size_t n = 0; n < nodes_; ++n) {
    double nic = config_.nic_bandwidth_mbps();
    const int own = node_region_[n];
    if (nic <= 0 && !uniform_) {
      nic = catalog_.bandwidth_mbps(own, own);
      if (nic <= 0) nic = config_.intra_region_bandwidth_mbps();
    }
    nic_ns_per_byte_[n] = nic > 0 ? 8000.0 / nic : 0;
  }
  nic_free_at_.assign(nodes_, 0);
  flow_free_at_.assign(nodes_ * nodes_, 0);
  if (config_.receiver_nic()) rx_free_at_.assign(nodes_, 0);
}

void Network::Stage(TimeNs& free_at, double ns_per_byte, uint32_t bytes, TimeNs& start, TimeNs& done) {
  if (ns_per_byte <= 0) return;
  start = std::max(start, free_at);
  done = std::max(done, start + static_cast<TimeNs>(bytes * ns_per_byte + 0.5));
  free_at = done;
}

Network::Transit Network::Send(TimeNs now, NodeId from, NodeId to, uint32_t bytes, Rng& rng,
                               const scenario::Fault* link) {
  size_t r = catalog_.size();
  int a = node_region_[from], b = node_region_[to];
  Transit t;
  t.wan = a != b;
  // When the message's first byte goes out, and when its last byte is through every stage so far.
  TimeNs start = now, done = now;
  Stage(nic_free_at_[from], nic_ns_per_byte_[from], bytes, start, done);
  Stage(flow_free_at_[from * nodes_ + to], ns_per_byte_[a * r + b], bytes, start, done);
  const scenario::Distribution& jitter = link && link->has_jitter() ? link->jitter() : config_.jitter();
  TimeNs delay =
      uniform_ ? DrawDelay(config_.uniform_delay(), rng) + (link && link->has_jitter() ? DrawDelay(jitter, rng) : 0)
               : one_way_[a * r + b] + DrawDelay(jitter, rng);
  // A network phase (LINK extra_delay_ms): the link is slower for a while.
  if (link != nullptr && link->extra_delay_ms() > 0)
    delay += static_cast<TimeNs>(link->extra_delay_ms() * kMillisecond);
  t.arrival = done + delay;
  if (!rx_free_at_.empty()) {
    start += delay;
    Stage(rx_free_at_[to], nic_ns_per_byte_[to], bytes, start, t.arrival);
  }
  t.lost = rng.Bernoulli(link ? link->loss_ratio() : config_.loss_ratio());
  return t;
}

}  // namespace geopbft
