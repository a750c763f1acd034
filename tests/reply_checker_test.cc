// The reply checker: what a client accepted must be what honest replicas computed.
#include "sim/reply_checker.h"

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geopbft {
namespace {

using ::testing::HasSubstr;

constexpr NodeId kClient = 10;

TEST(ReplyChecker, AcceptsTheResultHonestReplicasComputed) {
  ReplyChecker c(3);
  for (NodeId r = 0; r < 3; ++r) c.OnExecuted(r, {kClient, 1, 0xabc}, 100);
  c.OnAccepted(kClient, {1, 0, 200, 0xabc});
  EXPECT_EQ(c.violations(), 0u);
  EXPECT_EQ(c.tracked(), 0u);  // executed everywhere and accepted: forgotten
}

TEST(ReplyChecker, AClientAcceptingAnotherResultIsAViolation) {
  ReplyChecker c(3);
  c.OnExecuted(0, {kClient, 7, 0xabc}, 100);
  c.OnAccepted(kClient, {7, 0, 200, 0xdef});
  EXPECT_EQ(c.violations(), 1u);
  EXPECT_THAT(c.first_violation(), HasSubstr("client 10 accepted result 0000000000000def for request 7"));
  EXPECT_THAT(c.first_violation(), HasSubstr("honest replica 0 computed 0000000000000abc"));
}

TEST(ReplyChecker, AResultBeforeAnyHonestExecutionIsAViolation) {
  // f+1 matching replies contain an honest one, sent after executing: acceptance cannot come first.
  ReplyChecker c(3);
  c.OnAccepted(kClient, {4, 0, 200, 0x1});
  EXPECT_EQ(c.violations(), 1u);
  EXPECT_THAT(c.first_violation(), HasSubstr("which no honest replica executed"));
}

TEST(ReplyChecker, HonestReplicasComputingDifferentResultsIsAViolation) {
  ReplyChecker c(3);
  c.OnExecuted(0, {kClient, 2, 0x10}, 100);
  c.OnExecuted(1, {kClient, 2, 0x10}, 110);
  c.OnExecuted(2, {kClient, 2, 0x11}, 120);
  EXPECT_EQ(c.violations(), 1u);
  EXPECT_THAT(c.first_violation(), HasSubstr("replica 2 executed request 2 of client 10 with result 0000000000000011"));
}

TEST(ReplyChecker, ForgetsTheOldestWhenReplicasNeverExecute) {
  // One honest replica is down for the whole run: entries never complete, memory stays bounded,
  // and an acceptance of a forgotten request is counted as unverified, not as a violation.
  ReplyChecker c(2);
  for (uint64_t ts = 1; ts <= 100000; ++ts) c.OnExecuted(0, {kClient, ts, ts}, 0);
  EXPECT_LE(c.tracked(), size_t{1} << 16);
  c.OnAccepted(kClient, {1, 0, 1, 1});
  c.OnAccepted(kClient, {100000, 0, 1, 100000});
  EXPECT_EQ(c.violations(), 0u);
  EXPECT_EQ(c.unverified(), 1u);
}

// The checker's semantics written plainly: a table of (client, timestamp) entries, the oldest
// insertion forgotten first.
struct Model {
  struct E {
    uint64_t result;
    uint32_t executions = 0;
    bool accepted = false;
  };
  uint32_t honest = 0;
  std::map<std::pair<NodeId, uint64_t>, E> table;
  std::deque<std::pair<NodeId, uint64_t>> order;
  bool forgot = false;
  uint64_t violations = 0, unverified = 0;
  void Executed(NodeId client, uint64_t ts, uint64_t result) {
    auto key = std::make_pair(client, ts);
    auto it = table.find(key);
    if (it == table.end()) {
      while (order.size() >= (size_t{1} << 16)) {
        if (table.erase(order.front()) > 0) forgot = true;
        order.pop_front();
      }
      it = table.emplace(key, E{result}).first;
      order.push_back(key);
    } else if (it->second.result != result) {
      ++violations;
    }
    if (++it->second.executions >= honest && it->second.accepted) table.erase(it);
  }
  void Accepted(NodeId client, uint64_t ts, uint64_t result) {
    auto it = table.find({client, ts});
    if (it == table.end()) {
      forgot ? ++unverified : ++violations;
      return;
    }
    if (it->second.result != result) ++violations;
    it->second.accepted = true;
    if (it->second.executions >= honest) table.erase(it);
  }
};

// The checker's table is laid out for speed (a window per client, a hash map for the rest); it
// must keep the plain semantics: a table of (client, timestamp) entries, oldest insertion forgotten
// first. A reference model with those semantics and the checker see the same random history —
// shuffled timestamps, clients with far-apart and far-future timestamps, huge client ids, replicas
// that skip requests, accepted results right and wrong — and must count alike throughout.
TEST(ReplyChecker, KeepsThePlainTableSemanticsUnderAnyHistory) {
  std::mt19937_64 rng(7);
  const std::vector<NodeId> clients = {3, 10, 11, 40000, 70000, 0xfffffff0u};
  for (uint32_t honest : {2u, 4u}) {
    ReplyChecker c(honest);
    Model m;
    m.honest = honest;
    std::vector<uint64_t> next(clients.size(), 1);
    for (int step = 0; step < 300000; ++step) {
      const size_t k = rng() % clients.size();
      const NodeId client = clients[k];
      // Mostly recent timestamps, out of order; sometimes a far jump or a far-future one.
      uint64_t ts;
      const uint64_t roll = rng() % 1000;
      if (roll == 0) {
        ts = next[k] + (uint64_t{1} << 21) + rng() % 1000;
      } else if (roll == 1) {
        next[k] += uint64_t{1} << 22;
        ts = next[k];
      } else {
        ts = next[k] + rng() % 300;
        if (ts > 300 && rng() % 2 == 0) ts -= rng() % 300;
      }
      if (rng() % 4 == 0) ++next[k];
      const uint64_t result = ts * 3 + (rng() % 500 == 0 ? 1 : 0);
      if (rng() % 3 == 0) {
        c.OnAccepted(client, {ts, 0, 0, result});
        m.Accepted(client, ts, result);
      } else {
        c.OnExecuted(static_cast<NodeId>(rng() % 5), {client, ts, result}, 0);
        m.Executed(client, ts, result);
      }
      ASSERT_EQ(c.violations(), m.violations) << "step " << step;
      ASSERT_EQ(c.unverified(), m.unverified) << "step " << step;
      ASSERT_EQ(c.tracked(), m.table.size()) << "step " << step;
    }
    EXPECT_GT(m.violations, 0u);
    EXPECT_GT(m.unverified, 0u);
  }
}

// Batches reported whole (OnExecutedBatch) keep the semantics of reporting each request: every
// replica reports each position, most of them identically, some with a result of their own or a
// request missing or added, some never (a crashed replica); positions that share a request;
// acceptances at any time, right and wrong; and enough positions that the oldest entries are
// forgotten. The checker and the plain table count alike throughout.
TEST(ReplyChecker, ABatchReportedWholeIsEachOfItsRequestsReported) {
  std::mt19937_64 rng(11);
  for (uint32_t honest : {1u, 3u, 4u}) {
    ReplyChecker c(honest);
    Model m;
    m.honest = honest;
    struct Pending {
      uint64_t position;
      std::vector<RequestResult> results;
      uint32_t reports = 0;
    };
    std::deque<Pending> open;
    uint64_t next_ts = 1, position = 0;
    for (int step = 0; step < 120000; ++step) {
      const uint64_t roll = rng() % 100;
      if (roll < 8 || open.empty()) {  // a new position: a batch of shuffled, interleaved requests
        Pending p{++position, {}};
        const size_t n = rng() % 20;
        for (size_t i = 0; i < n; ++i) {
          const NodeId client = static_cast<NodeId>(3 + rng() % 3);
          const uint64_t ts = next_ts + rng() % 40;
          p.results.push_back({client, ts, ts * 7 + position % 3});
        }
        if (rng() % 20 == 0 && !open.empty() && !open.back().results.empty()) {
          p.results.push_back(open.back().results[0]);  // a request another position holds too
        }
        next_ts += 20;
        open.push_back(std::move(p));
      } else if (roll < 85) {  // a replica reports an open position, now and then differently
        const size_t at = rng() % std::min<size_t>(open.size(), 8);
        Pending& p = open[open.size() - 1 - at];
        std::vector<RequestResult> report = p.results;
        const uint64_t odd = rng() % 40;
        if (odd == 0 && !report.empty()) report[rng() % report.size()].result ^= 1;
        if (odd == 1 && !report.empty()) report.pop_back();
        if (odd == 2) report.push_back({6, next_ts + 1000 + rng() % 1000, 5});
        c.OnExecutedBatch(static_cast<NodeId>(rng() % 5), p.position, report.data(), report.size(), 0);
        for (const RequestResult& r : report) m.Executed(r.client, r.timestamp, r.result);
        if (++p.reports >= honest + rng() % 2 && rng() % 2 == 0) {
          open.erase(open.end() - 1 - static_cast<std::ptrdiff_t>(at));  // (some get one report more)
        }
      } else {  // a client accepts a result of an open position (now and then a wrong one)
        const Pending& p = open[rng() % open.size()];
        if (p.results.empty()) continue;
        const RequestResult& r = p.results[rng() % p.results.size()];
        const uint64_t result = r.result ^ (rng() % 50 == 0 ? 1 : 0);
        c.OnAccepted(r.client, {r.timestamp, 0, 0, result});
        m.Accepted(r.client, r.timestamp, result);
      }
      ASSERT_EQ(c.violations(), m.violations) << "honest " << honest << " step " << step;
      ASSERT_EQ(c.unverified(), m.unverified) << "honest " << honest << " step " << step;
      ASSERT_EQ(c.tracked(), m.table.size()) << "honest " << honest << " step " << step;
    }
    EXPECT_GT(m.violations, 0u);
    EXPECT_TRUE(m.forgot) << "honest " << honest;  // (the oldest entries were forgotten)
  }
}

}  // namespace
}  // namespace geopbft
