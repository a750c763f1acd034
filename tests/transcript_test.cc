// Transcript tests, in the spirit of etcd raft's datadriven tests: each file of tests/testdata/
// is a sequence of commands that drive replicas by hand (deliver, drop, cut off, fire a timer),
// each followed by "----" and the output it must produce (what was sent, what executed, the state).
// A change of behaviour shows as a readable diff of those outputs. To accept new outputs:
//   GEOPBFT_REWRITE_TRANSCRIPTS=1 build/release/tests/transcript_test
//
// Commands (arguments are key=value):
//   group n=N [batch=B] [window=W] [checkpoint=C]   a new PBFT group of N replicas (f = (N-1)/3)
//   geo clusters=Z n=N [batch=B] [window=W] [checkpoint=C] [remote_timeout_ms=T]
//                                                    GeoBFT: Z clusters of N (replica ids cluster by cluster)
//   request ts=T [to=R|all] [cluster=C]              a client request (to the primary, replica 0, by default;
//                                                    GeoBFT: a client of cluster C, to its replicas)
//   deliver [count=K]                                K queued messages (all by default), in FIFO order
//   drop type=TYPE [to=R] | drop clear               lose matching messages at delivery from now on
//   cut r=R | heal r=R                               replica R loses everything it sends and receives
//   fire r=R|all timer=batch|view|fetch|status|remote  fire a pending timer (time jumps to its deadline)
//   state                                            view, executed, stable checkpoint of every replica
//                                                    (GeoBFT: positions of the global order executed,
//                                                    a cluster's batch of a round being one, and its local
//                                                    PBFT's sequence numbers)
//   replies                                          replies per client and timestamp, and whether they agree
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "protocol/geobft_replica.h"
#include "protocol/pbft_replica.h"
#include "tests/pbft_test_group.h"

namespace geopbft {
namespace {

// Replicas driven by hand: messages are queued and delivered only when the transcript says so,
// timers fire only when it fires them, and a replica cut off loses what it sends and receives.
struct Hand : testing::HandRouting {
  uint32_t n = 0;  // replicas 0..n-1; clients from n on
  KeyRing keys{1, CryptoMode::kFast};
  std::vector<std::unique_ptr<Replica>> replicas;
  std::vector<std::vector<NodeId>> group_of;  // each replica's PBFT group (a kToGroup send reaches it)

  MessagePtr Request(uint64_t ts, NodeId client) { return testing::SignedRequest(keys, ts, client); }
  Effects StepAndRoute(NodeId to, const Input& in) {
    Effects fx;
    replicas[to]->Step(now, in, fx);
    Route(to, group_of[to], n, fx);
    return fx;
  }
};

PbftConfig LocalConfig(const std::vector<NodeId>& members, uint32_t self_index, uint32_t batch, uint32_t window,
                       uint32_t checkpoint) {
  PbftConfig cfg;
  cfg.members = members;
  cfg.self_index = self_index;
  cfg.f = (static_cast<uint32_t>(members.size()) - 1) / 3;
  cfg.batch_size = batch;
  cfg.batch_timeout = kMillisecond;
  cfg.window = window;
  cfg.checkpoint_interval = checkpoint;
  cfg.request_timeout = kSecond;
  return cfg;
}

// The local PBFT of a replica, whichever protocol it runs.
const PbftReplica& LocalOf(const Replica& r) {
  if (const auto* g = dynamic_cast<const GeoBftReplica*>(&r)) return g->local();
  return static_cast<const PbftReplica&>(r);
}

struct Case {
  std::string command;  // the whole line
  std::string expected;
};

std::vector<Case> ReadTranscript(const std::string& path) {
  std::ifstream in(path);
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Case c{line, ""};
    std::getline(in, line);  // ----
    while (std::getline(in, line) && !line.empty()) absl::StrAppend(&c.expected, line, "\n");
    cases.push_back(std::move(c));
  }
  return cases;
}

std::string Describe(const Message& m) {
  std::string s(MsgTypeName(m.type));
  const wire::Envelope& e = SealedEnvelope(m);
  switch (m.type) {
    case MsgType::kPrePrepare:
      return absl::StrCat(s, "(v", e.pre_prepare().view(), ",s", e.pre_prepare().seq(), ")");
    case MsgType::kPrepare:
      return absl::StrCat(s, "(v", e.prepare().view(), ",s", e.prepare().seq(), ")");
    case MsgType::kCommit:
      return absl::StrCat(s, "(v", e.commit().view(), ",s", e.commit().seq(), ")");
    case MsgType::kCheckpoint:
      return absl::StrCat(s, "(s", e.checkpoint().seq(), ")");
    case MsgType::kViewChange:
      return absl::StrCat(s, "(v", e.view_change().new_view(), ")");
    case MsgType::kNewView:
      return absl::StrCat(s, "(v", e.new_view().view(), ")");
    case MsgType::kReply:
      return absl::StrCat(s, "(ts", e.reply().timestamp(), ")");
    default:
      return s;
  }
}

class Transcript {
 public:
  std::string Run(const std::string& line) {
    std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    const std::string cmd = words[0];
    std::map<std::string, std::string> args;
    for (size_t i = 1; i < words.size(); ++i) {
      std::pair<std::string, std::string> kv = absl::StrSplit(words[i], absl::MaxSplits('=', 1));
      args[kv.first] = kv.second;
    }
    auto arg = [&](const std::string& k) {  // (never inserts: a key present is a key given)
      auto it = args.find(k);
      return it == args.end() ? std::string() : it->second;
    };
    auto num = [&](const std::string& k, uint32_t d) {
      uint32_t v = d;
      if (args.count(k) && !absl::SimpleAtoi(arg(k), &v)) ADD_FAILURE() << "bad number in: " << line;
      return v;
    };
    if (cmd == "group" || cmd == "geo") {
      const uint32_t z = cmd == "geo" ? num("clusters", 2) : 1, per = num("n", 4);
      g_ = std::make_unique<Hand>();
      g_->n = z * per;
      std::vector<std::vector<NodeId>> clusters(z);
      for (NodeId r = 0; r < g_->n; ++r) clusters[r / per].push_back(r);
      geo_ = cmd == "geo";
      for (NodeId r = 0; r < g_->n; ++r) {
        g_->group_of.push_back(clusters[r / per]);
        PbftConfig local =
            LocalConfig(clusters[r / per], r % per, num("batch", 2), num("window", 64), num("checkpoint", 16));
        if (!geo_) {
          g_->replicas.push_back(std::make_unique<PbftReplica>(std::move(local), Identity(&g_->keys, r)));
          continue;
        }
        GeoConfig gc;
        gc.local = std::move(local);
        gc.cluster = r / per;
        gc.clusters = clusters;
        gc.remote_timeout = num("remote_timeout_ms", 500) * kMillisecond;
        g_->replicas.push_back(std::make_unique<GeoBftReplica>(std::move(gc), Identity(&g_->keys, r)));
      }
      return geo_ ? absl::StrCat(z, " clusters of ", per, " replicas, f=", (per - 1) / 3, " each\n")
                  : absl::StrCat(per, " replicas, f=", (per - 1) / 3, "\n");
    }
    if (!g_) return "no group yet\n";
    if (cmd == "request") {
      const uint32_t cluster = num("cluster", 0), per = static_cast<uint32_t>(g_->group_of[0].size());
      MessagePtr r = g_->Request(num("ts", 1), g_->n + cluster);
      if (arg("to") == "all") {
        for (NodeId i : g_->group_of[cluster * per]) Step(i, Input::Deliver(r));
      } else {
        Step(args.count("to") ? num("to", 0) : cluster * per, Input::Deliver(r));
      }
      return Flush();
    }
    if (cmd == "deliver") {
      uint32_t count = num("count", 1u << 30);
      std::map<std::string, int> delivered, dropped;
      while (count-- > 0 && !g_->queue.empty()) {
        auto [to, m] = g_->queue.front();
        g_->queue.pop_front();
        const std::string type(MsgTypeName(m->type));
        if (g_->cut.count(to) || Dropped(type, to)) {
          ++dropped[type];
          continue;
        }
        ++delivered[type];
        g_->StepAndRoute(to, Input::Deliver(m));
      }
      sent_.clear();  // what a delivery causes is summed up by the next deliveries and the state
      std::string out = "delivered:";
      for (const auto& [t, k] : delivered) absl::StrAppend(&out, " ", t, " ", k);
      if (!dropped.empty()) {
        absl::StrAppend(&out, "\ndropped:");
        for (const auto& [t, k] : dropped) absl::StrAppend(&out, " ", t, " ", k);
      }
      return out + "\n" + Executions();
    }
    if (cmd == "drop") {
      if (args.count("type") == 0) {
        drops_.clear();
        return "no drops\n";
      }
      drops_.push_back({arg("type"), args.count("to") ? static_cast<int>(num("to", 0)) : -1});
      return absl::StrCat("dropping ", arg("type"), args.count("to") ? " to " + arg("to") : "", "\n");
    }
    if (cmd == "cut" || cmd == "heal") {
      const uint32_t r = num("r", 0);
      if (cmd == "cut") {
        g_->cut.insert(r);
      } else {
        g_->cut.erase(r);
      }
      return absl::StrCat("replica ", r, cmd == "cut" ? " cut off\n" : " back\n");
    }
    if (cmd == "fire") {
      const std::map<std::string, uint64_t> ids = {{"batch", PbftReplica::kBatchTimer},
                                                   {"view", PbftReplica::kViewChangeTimer},
                                                   {"fetch", PbftReplica::kFetchTimer},
                                                   {"status", PbftReplica::kStatusTimer},
                                                   {"remote", GeoBftReplica::kRemoteTimer}};
      auto id = ids.find(arg("timer"));
      if (id == ids.end()) return "unknown timer\n";
      std::string out;
      for (NodeId r = 0; r < g_->n; ++r) {
        if (arg("r") != "all" && r != num("r", 0)) continue;
        auto t = g_->timers[r].find(id->second);
        if (t == g_->timers[r].end()) {
          absl::StrAppend(&out, "r", r, ": no ", arg("timer"), " timer\n");
          continue;
        }
        g_->now = std::max(g_->now, t->second);
        g_->timers[r].erase(t);
        Step(r, Input::Timer(id->second));
      }
      return out + Flush();
    }
    if (cmd == "state") {
      std::string out;
      for (NodeId r = 0; r < g_->n; ++r) {
        const Replica& rep = *g_->replicas[r];
        const PbftReplica& p = LocalOf(rep);
        absl::StrAppend(&out, "r", r, ": view ", p.view(), " executed ", rep.last_executed(),
                        geo_ ? absl::StrCat(" local ", p.last_executed()) : "", " stable ", p.stable_checkpoint(),
                        p.view_changing() ? " view-changing" : "",
                        p.IsPrimary() && !p.view_changing() ? " primary" : "", g_->cut.count(r) ? " (cut off)" : "",
                        "\n");
      }
      return out;
    }
    if (cmd == "replies") {
      std::map<std::pair<uint32_t, uint64_t>, std::set<uint64_t>> results;  // (client, ts) -> results
      std::map<std::pair<uint32_t, uint64_t>, std::set<NodeId>> from;
      for (const MessagePtr& m : g_->to_client) {
        const std::pair<uint32_t, uint64_t> key{SealedEnvelope(*m).reply().client(),
                                                SealedEnvelope(*m).reply().timestamp()};
        results[key].insert(SealedEnvelope(*m).reply().result());
        from[key].insert(SealedEnvelope(*m).reply().replica());
      }
      std::string out;
      for (const auto& [key, set] : results) {
        absl::StrAppend(&out, "client ", key.first, " ts ", key.second, ": ", from[key].size(), " replicas, ",
                        set.size() == 1 ? "one result" : "RESULTS DIFFER", "\n");
      }
      return out.empty() ? "no replies\n" : out;
    }
    return "unknown command\n";
  }

 private:
  void Step(NodeId r, const Input& in) {
    Effects fx = g_->StepAndRoute(r, in);
    for (const Outgoing& o : fx.sends) {
      if (o.msg->type == MsgType::kReply) continue;  // the replies command sums them up
      sent_.push_back(absl::StrCat("r", r, " sent ", Describe(*o.msg), " to ",
                                   o.to == kToGroup ? std::string("group") : absl::StrCat("r", o.to)));
    }
  }
  std::string Flush() {
    std::string out = sent_.empty() ? "nothing sent\n" : absl::StrJoin(sent_, "\n") + "\n";
    sent_.clear();
    return out;
  }
  bool Dropped(const std::string& type, NodeId to) const {
    for (const auto& [t, r] : drops_) {
      if (t == type && (r < 0 || static_cast<NodeId>(r) == to)) return true;
    }
    return false;
  }
  std::string Executions() const {
    std::string out = "executed:";
    for (NodeId r = 0; r < g_->n; ++r) {
      auto it = g_->executed.find(r);
      if (it == g_->executed.end() || it->second.empty()) continue;
      std::vector<std::string> seqs;
      for (const Execution& e : it->second) seqs.push_back(absl::StrCat(e.seq));
      absl::StrAppend(&out, " r", r, "[", absl::StrJoin(seqs, ","), "]");
    }
    return out + "\n";
  }

  std::unique_ptr<Hand> g_;
  bool geo_ = false;
  std::vector<std::string> sent_;
  std::vector<std::pair<std::string, int>> drops_;
};

class TranscriptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TranscriptTest, OutputsAsRecorded) {
  const std::string path = std::string(GEOPBFT_SOURCE_DIR) + "/tests/testdata/" + GetParam();
  std::vector<Case> cases = ReadTranscript(path);
  ASSERT_FALSE(cases.empty()) << path;
  const bool rewrite = std::getenv("GEOPBFT_REWRITE_TRANSCRIPTS") != nullptr;
  Transcript t;
  std::string rewritten;
  {
    // Keep the leading comment block of the file.
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line) && (line.empty() || line[0] == '#')) rewritten += line + "\n";
  }
  for (const Case& c : cases) {
    const std::string got = t.Run(c.command);
    if (!rewrite) {
      EXPECT_EQ(got, c.expected) << GetParam() << ": " << c.command;
    }
    absl::StrAppend(&rewritten, c.command, "\n----\n", got, "\n");
  }
  if (rewrite) std::ofstream(path) << rewritten;
}

std::vector<std::string> Transcripts() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(std::string(GEOPBFT_SOURCE_DIR) + "/tests/testdata")) {
    if (e.path().extension() == ".txt") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Files, TranscriptTest, ::testing::ValuesIn(Transcripts()),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param.substr(0, i.param.size() - 4);
                           for (char& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           return n;
                         });

}  // namespace
}  // namespace geopbft
