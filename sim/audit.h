// Off-line audit of a traced run (./geopbft audit DIR): re-checks every protocol message a replica
// sent (recorded in DIR/signed.log by `run --trace`) with the run's keys, and lists each proven
// misbehaviour per replica:
//  - two PRE-PREPAREs for the same (group, view, sequence number) with different batches (an
//    equivocating leader);
//  - two signed COMMITs for the same (view, sequence number) with different digests;
//  - a signed COMMIT for another digest than the one a commit quorum signed (a vote against);
//  - a signed CHECKPOINT for another state digest than the one a quorum certified.
// Only messages that authenticate as their sender count (a forgery proves nothing against the
// replica it names; it is reported apart). Signatures are transferable proof; PRE-PREPAREs carry
// authenticators (MACs), which the auditor can check because it holds every key of the run.
#ifndef GEOPBFT_SIM_AUDIT_H_
#define GEOPBFT_SIM_AUDIT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/strings/string_view.h"
#include "protocol/crypto.h"
#include "protocol/message.h"
#include "scenarios/scenario.pb.h"

namespace geopbft {

class Auditor {
 public:
  Auditor(const scenario::Scenario& s, const KeyRing* keys);

  // One line of signed.log: "<time_ns> <destination or -1 for the group> <hex of the envelope>".
  // Returns false for a line that cannot be parsed.
  bool AddLine(absl::string_view line);
  void Add(int64_t time_ns, int64_t to, const MessagePtr& m);

  struct Finding {
    NodeId replica;
    std::string what;    // kind of misbehaviour
    uint64_t count = 0;  // occurrences
    std::string first;   // the first one, described
  };
  // Everything proven, by replica then kind.
  std::vector<Finding> Findings() const;
  // The report printed by the command.
  std::string Report() const;

  uint64_t messages() const { return messages_; }
  uint64_t unauthenticated() const { return unauthenticated_; }

 private:
  using SlotKey = std::tuple<uint32_t, uint64_t, uint64_t>;  // (group, view, seq)
  uint32_t GroupOf(NodeId n) const;
  const std::vector<NodeId>& Members(uint32_t group) const { return groups_[group]; }
  bool Authentic(const Message& m, int64_t to) const;

  scenario::Scenario scenario_;
  const KeyRing* keys_;
  std::vector<std::vector<NodeId>> groups_;
  uint32_t per_group_ = 0, f_ = 0, voters_ = 0;
  bool flat_ = true;
  uint64_t messages_ = 0, unauthenticated_ = 0;
  absl::btree_map<NodeId, uint64_t> forged_;  // claimed sender -> messages that did not authenticate
  // What each replica put its name to.
  absl::btree_map<SlotKey, absl::btree_map<NodeId, absl::btree_map<std::string, int64_t>>> proposals_, commits_;
  absl::btree_map<std::pair<uint32_t, uint64_t>, absl::btree_map<NodeId, absl::btree_map<std::string, int64_t>>>
      checkpoints_;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_AUDIT_H_
