#include "sim/audit.h"

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "protocol/quorum.h"
#include "sim/scenario_loader.h"
#include "sim/topology.h"

namespace geopbft {
namespace {

std::string Short(const std::string& digest) { return absl::BytesToHexString(digest.substr(0, 4)); }
std::string At(int64_t t) { return absl::StrFormat("%.6f s", static_cast<double>(t) / kSecond); }

}  // namespace

Auditor::Auditor(const scenario::Scenario& s, const KeyRing* keys) : scenario_(s), keys_(keys) {
  const Topology t = Topology::FromScenario(s);
  per_group_ = t.group_size();
  f_ = t.f;
  flat_ = !t.geo;
  groups_ = t.groups;
  // A decision needs a commit quorum of the voters: the committee with reputation, else the group.
  voters_ = t.voters;
}

uint32_t Auditor::GroupOf(NodeId n) const { return flat_ ? 0 : n / per_group_; }

bool Auditor::Authentic(const Message& m, int64_t to) const {
  if (m.sender >= per_group_ * groups_.size()) return false;  // not a replica
  if (!m.env.signature().empty()) return keys_->Verify(m.sender, m.body_digest, m.env.signature());
  if (MacBytes(m.env).size() == kMacSize) {
    return to >= 0 && keys_->VerifyMac(m.sender, static_cast<NodeId>(to), m.body_digest, MacBytes(m.env));
  }
  const std::vector<NodeId>& members = Members(GroupOf(m.sender));
  if (MacCount(m.env) != members.size() || MacBytes(m.env).size() % kMacSize != 0) return false;
  for (uint32_t i = 0; i < members.size(); ++i) {
    if (members[i] == m.sender) continue;
    if (!keys_->VerifyMac(m.sender, members[i], m.body_digest, MacAt(m.env, i))) return false;
  }
  return true;
}

bool Auditor::AddLine(absl::string_view line) {
  std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
  int64_t time = 0, to = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &time) || !absl::SimpleAtoi(parts[1], &to)) return false;
  std::string bytes = absl::HexStringToBytes(parts[2]);
  absl::StatusOr<MessagePtr> m = DecodeMessage(bytes, keys_->mode());
  if (!m.ok()) return false;
  Add(time, to, *m);
  return true;
}

void Auditor::Add(int64_t time, int64_t to, const MessagePtr& m) {
  ++messages_;
  if (!Authentic(*m, to)) {
    ++unauthenticated_;
    ++forged_[m->sender];
    return;
  }
  const uint32_t group = GroupOf(m->sender);
  switch (m->type) {
    case MsgType::kPrePrepare: {
      const wire::PrePrepare& pp = m->env.pre_prepare();
      proposals_[{group, pp.view(), pp.seq()}][m->sender].try_emplace(std::string(m->batch_digest.view()), time);
      return;
    }
    case MsgType::kCommit: {
      const wire::Commit& c = m->env.commit();
      if (c.replica() != m->sender) return;
      commits_[{group, c.view(), c.seq()}][m->sender].try_emplace(c.digest(), time);
      return;
    }
    case MsgType::kCheckpoint: {
      const wire::Checkpoint& c = m->env.checkpoint();
      checkpoints_[{group, c.seq()}][m->sender].try_emplace(c.state_digest(), time);
      return;
    }
    default:
      return;
  }
}

std::vector<Auditor::Finding> Auditor::Findings() const {
  absl::btree_map<std::pair<NodeId, std::string>, Finding> found;  // by replica, then kind
  auto note = [&found](NodeId r, const std::string& what, const std::string& first) {
    Finding& f = found[{r, what}];
    if (f.count++ == 0) {
      f.replica = r;
      f.what = what;
      f.first = first;
    }
  };
  for (const auto& [key, by_sender] : proposals_) {
    for (const auto& [sender, digests] : by_sender) {
      if (digests.size() < 2) continue;
      auto second = std::next(digests.begin());
      note(sender, "equivocating leader: two PRE-PREPAREs for one slot",
           absl::StrFormat("view %d seq %d: batches %s and %s (at %s)", std::get<1>(key), std::get<2>(key),
                           Short(digests.begin()->first), Short(second->first), At(second->second)));
    }
  }
  const uint32_t quorum = CommitQuorum(voters_, f_);
  for (const auto& [key, by_sender] : commits_) {
    absl::btree_map<std::string, uint32_t> support;
    for (const auto& [sender, digests] : by_sender) {
      for (const auto& [d, t] : digests) ++support[d];
      if (digests.size() > 1) {
        note(sender, "signed COMMITs for two digests in one slot",
             absl::StrFormat("view %d seq %d (at %s)", std::get<1>(key), std::get<2>(key),
                             At(std::next(digests.begin())->second)));
      }
    }
    std::string decided;
    for (const auto& [d, count] : support) {
      if (count >= quorum) decided = d;
    }
    if (decided.empty()) continue;
    for (const auto& [sender, digests] : by_sender) {
      for (const auto& [d, t] : digests) {
        if (d == decided) continue;
        note(sender, "signed a COMMIT against the decided digest",
             absl::StrFormat("view %d seq %d: %s instead of %s (at %s)", std::get<1>(key), std::get<2>(key), Short(d),
                             Short(decided), At(t)));
      }
    }
  }
  for (const auto& [key, by_sender] : checkpoints_) {
    absl::btree_map<std::string, uint32_t> support;
    for (const auto& [sender, digests] : by_sender) {
      for (const auto& [d, t] : digests) ++support[d];
    }
    std::string stable;
    for (const auto& [d, count] : support) {
      if (count >= CommitQuorum(per_group_, f_)) stable = d;
    }
    for (const auto& [sender, digests] : by_sender) {
      for (const auto& [d, t] : digests) {
        if (stable.empty() || d == stable) continue;
        note(sender, "signed a CHECKPOINT for a state the quorum did not certify",
             absl::StrFormat("seq %d (at %s)", key.second, At(t)));
      }
    }
  }
  std::vector<Finding> out;
  for (const auto& [key, f] : found) out.push_back(f);
  return out;
}

std::string Auditor::Report() const {
  std::vector<Finding> findings = Findings();
  std::string s =
      absl::StrFormat("%d messages checked, %d did not authenticate as their sender\n", messages_, unauthenticated_);
  absl::btree_map<uint32_t, std::string> behaviour;
  for (const auto& b : scenario_.byzantine()) {
    for (uint32_t r : b.replicas()) behaviour[r] = scenario::Byzantine::Behaviour_Name(b.behaviour());
  }
  if (findings.empty()) absl::StrAppend(&s, "no proven misbehaviour\n");
  NodeId last = UINT32_MAX;
  for (const Finding& f : findings) {
    if (f.replica != last) {
      auto b = behaviour.find(f.replica);
      absl::StrAppendFormat(&s, "replica %d (%s%s):\n", f.replica,
                            flat_ ? "flat group" : absl::StrCat("cluster ", GroupOf(f.replica)),
                            b == behaviour.end() ? "" : absl::StrCat(", scenario: ", b->second));
      last = f.replica;
    }
    absl::StrAppendFormat(&s, "  %s: %d time(s); first: %s\n", f.what, f.count, f.first);
  }
  for (const auto& [sender, n] : forged_) {
    absl::StrAppendFormat(&s, "messages claiming to be from %d that it did not send (not held against it): %d\n",
                          sender, n);
  }
  return s;
}

}  // namespace geopbft
