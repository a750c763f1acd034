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
  EXPECT_EQ(local.arrival, 1000 * 8000 / 7998 + kMillisecond / 2);  // behind the first on the NIC
}

TEST(Network, EachFlowIsAFifoAtThePairBandwidth) {
  Network net = Make({});
  Rng rng(1);
  TimeNs ser = static_cast<TimeNs>(1'000'000 * 8000.0 / 194 + 0.5);  // 1 MB to belgium: ~41 ms
  Network::Transit a = net.Send(0, 0, 2, 1'000'000, rng);
  Network::Transit b = net.Send(0, 0, 2, 1'000'000, rng);
  EXPECT_EQ(a.arrival, 68 * kMillisecond + ser);
  EXPECT_EQ(b.arrival - a.arrival, ser);
}

// Nodes 0 in oregon; 1, 2, 3 in belgium.
Network MakeFanOut(const scenario::Network& cfg) {
  const RegionCatalog& c = RegionCatalog::Embedded();
  return Network(cfg, c, {c.Find("oregon"), c.Find("belgium"), c.Find("belgium"), c.Find("belgium")});
}

TEST(Network, ReceiversInOneRegionDoNotShareAPipe) {
  // The catalog's 194 Mbit/s oregon -> belgium is per machine pair: three receivers get three flows
  // at that rate (what the NIC, at 7998 Mbit/s, emits in a fraction of the time).
  Network net = MakeFanOut({});
  Rng rng(1);
  const TimeNs nic = static_cast<TimeNs>(1'000'000 * 8000.0 / 7998 + 0.5);
  const TimeNs flow = static_cast<TimeNs>(1'000'000 * 8000.0 / 194 + 0.5);
  for (NodeId to = 1; to <= 3; ++to) {
    // Each starts when the NIC has sent the ones before: a NIC time apart, not a flow time.
    EXPECT_EQ(net.Send(0, 0, to, 1'000'000, rng).arrival, 68 * kMillisecond + (to - 1) * nic + flow) << to;
  }
}

TEST(Network, EveryMessageCrossesTheSendersNic) {
  // A 100 Mbit/s NIC is slower than the 194 Mbit/s flows: it sets the pace, whatever the destination.
  scenario::Network cfg;
  cfg.set_nic_bandwidth_mbps(100);
  Network net = MakeFanOut(cfg);
  Rng rng(1);
  const TimeNs nic = 80 * kMillisecond;  // 1 MB at 100 Mbit/s
  for (NodeId to = 1; to <= 3; ++to) {
    EXPECT_EQ(net.Send(0, 0, to, 1'000'000, rng).arrival, 68 * kMillisecond + to * nic) << to;
  }
  // The NIC is the sender's: another sender's message does not wait for it.
  EXPECT_EQ(net.Send(0, 1, 2, 0, rng).arrival, kMillisecond / 2);
}

TEST(Network, ReceiverNicQueuesConvergingMessages) {
  scenario::Network cfg;
  cfg.set_nic_bandwidth_mbps(100);
  cfg.set_receiver_nic(true);
  Network net = MakeFanOut(cfg);
  Rng rng(1);
  // Nodes 1 and 2 (belgium) each send 1 MB to node 3 at once: their own NICs work in parallel, node
  // 3's takes one after the other.
  const TimeNs one = 80 * kMillisecond + kMillisecond / 2;
  EXPECT_EQ(net.Send(0, 1, 3, 1'000'000, rng).arrival, one);
  EXPECT_EQ(net.Send(0, 2, 3, 1'000'000, rng).arrival, one + 80 * kMillisecond);
  scenario::Network off = cfg;
  off.set_receiver_nic(false);
  Network without = MakeFanOut(off);
  EXPECT_EQ(without.Send(0, 1, 3, 1'000'000, rng).arrival, one);
  EXPECT_EQ(without.Send(0, 2, 3, 1'000'000, rng).arrival, one);
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

TEST(Network, ALinkPhaseAddsItsDelayToThoseLinksOnly) {
  scenario::Network cfg;
  Network net = Make(cfg);
  Rng rng(7);
  scenario::Fault phase;
  phase.set_kind(scenario::Fault::LINK);
  phase.set_extra_delay_ms(250);
  const TimeNs normal = net.Send(0, 1, 0, 0, rng).arrival;
  EXPECT_EQ(net.Send(0, 1, 0, 0, rng, &phase).arrival, normal + 250 * kMillisecond);
  EXPECT_EQ(net.Send(0, 1, 0, 0, rng).arrival, normal);  // (the caller passes the phase only to its links)
  EXPECT_FALSE(net.Send(0, 1, 0, 0, rng, &phase).lost);  // its loss ratio: 0 unless set
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
