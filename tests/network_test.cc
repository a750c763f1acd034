#include "sim/network.h"

#include "gtest/gtest.h"
#include "sim/distribution.h"

namespace geopbft {
namespace {

// Nodes 0, 1 in oregon; 2 in belgium.
Network Make(const scenario::Network& cfg) {
  const RegionCatalog& c = RegionCatalog::Embedded();
  return Network(cfg, c, {c.Find("oregon"), c.Find("oregon"), c.Find("belgium")});
}

TEST(Network, DelayIsHalfTheRttPlusSerialization) {
  Network net = Make({});
  Rng rng(1);
  // oregon -> belgium: RTT 136 ms, 194 Mbit/s. 1000 bytes take 8000/194 us on the wire.
  Network::Transit t = net.Send(0, 0, 2, 1000, rng);
  EXPECT_TRUE(t.wan);
  EXPECT_FALSE(t.lost);
  EXPECT_EQ(t.arrival, 68 * kMillisecond + static_cast<TimeNs>(1000 * 8000.0 / 194 + 0.5));
  Network::Transit local = net.Send(0, 0, 1, 0, rng);
  EXPECT_FALSE(local.wan);
  EXPECT_EQ(local.arrival, kMillisecond / 2);
}

TEST(Network, UplinkIsAFifoPerDestinationRegion) {
  Network net = Make({});
  Rng rng(1);
  TimeNs ser = static_cast<TimeNs>(1'000'000 * 8000.0 / 194 + 0.5);  // 1 MB to belgium: ~41 ms
  Network::Transit a = net.Send(0, 0, 2, 1'000'000, rng);
  Network::Transit b = net.Send(0, 0, 2, 1'000'000, rng);
  EXPECT_EQ(b.arrival - a.arrival, ser);
  // The queue towards oregon is separate and empty.
  Network::Transit c = net.Send(0, 0, 1, 0, rng);
  EXPECT_EQ(c.arrival, kMillisecond / 2);
}

TEST(Network, UniformDelayAppliesToEveryPair) {
  scenario::Network cfg;
  cfg.mutable_uniform_delay()->set_kind(scenario::Distribution::CONSTANT);
  cfg.mutable_uniform_delay()->set_mean_ms(250);
  Network net = Make(cfg);
  Rng rng(1);
  EXPECT_EQ(net.Send(0, 0, 1, 5000, rng).arrival, 250 * kMillisecond);  // unlimited bandwidth
  EXPECT_EQ(net.Send(0, 0, 2, 5000, rng).arrival, 250 * kMillisecond);
}

TEST(Network, LossRatioDropsThatFraction) {
  scenario::Network cfg;
  cfg.set_loss_ratio(0.25);
  Network net = Make(cfg);
  Rng rng(3);
  int lost = 0;
  for (int i = 0; i < 40000; ++i) lost += net.Send(0, 0, 1, 0, rng).lost;
  EXPECT_NEAR(lost, 10000, 400);
}

TEST(Network, JitterFromTheSendersStream) {
  scenario::Network cfg;
  cfg.mutable_jitter()->set_kind(scenario::Distribution::UNIFORM);
  cfg.mutable_jitter()->set_min_ms(1);
  cfg.mutable_jitter()->set_max_ms(3);
  Network net = Make(cfg);
  Rng a(5), b(5);
  for (int i = 0; i < 100; ++i) {
    TimeNs t = net.Send(0, 1, 0, 0, a).arrival;
    EXPECT_GE(t, kMillisecond / 2 + kMillisecond);
    EXPECT_LE(t, kMillisecond / 2 + 3 * kMillisecond);
    EXPECT_EQ(t, net.Send(0, 1, 0, 0, b).arrival);  // same stream, same draw
  }
}

TEST(Distribution, NormalIsClampedAtZero) {
  scenario::Distribution d;
  d.set_kind(scenario::Distribution::NORMAL);
  d.set_mean_ms(1);
  d.set_sd_ms(10);
  Rng r(1);
  for (int i = 0; i < 1000; ++i) EXPECT_GE(DrawDelay(d, r), 0);
}

}  // namespace
}  // namespace geopbft
