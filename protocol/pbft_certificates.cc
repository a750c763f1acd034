#include "protocol/pbft_certificates.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace geopbft {
namespace {

int IndexIn(const std::vector<NodeId>& members, NodeId n) {
  auto it = std::find(members.begin(), members.end(), n);
  return it == members.end() ? -1 : static_cast<int>(it - members.begin());
}

}  // namespace

Digest BatchDigest(const wire::Batch& batch) { return Sha256(batch.SerializeAsString()); }

absl::Status ValidateCheckpointProof(const google::protobuf::RepeatedPtrField<wire::Envelope>& proof, uint64_t seq,
                                     const Digest& state_digest, const GroupInfo& group, const Identity& self,
                                     OpCounts& ops) {
  std::set<NodeId> signers;
  for (const wire::Envelope& env : proof) {
    if (env.body_case() != wire::Envelope::kCheckpoint) {
      return absl::InvalidArgumentError("checkpoint proof holds a message that is not a CHECKPOINT");
    }
    const wire::Checkpoint& c = env.checkpoint();
    if (c.seq() != seq || Digest::FromBytes(c.state_digest()) != state_digest || c.state_digest().size() != 32) {
      return absl::InvalidArgumentError(absl::StrFormat("checkpoint proof mixes checkpoints (seq %d)", c.seq()));
    }
    if (c.replica() != env.sender() || IndexIn(*group.members, env.sender()) < 0) {
      return absl::InvalidArgumentError(absl::StrFormat("checkpoint from non-member %d", env.sender()));
    }
    if (!signers.insert(env.sender()).second) {
      return absl::InvalidArgumentError(absl::StrFormat("replica %d signs the proof twice", env.sender()));
    }
    if (!CheckEmbeddedSignature(env, env.sender(), self, ops)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("bad signature of replica %d in checkpoint proof", env.sender()));
    }
  }
  uint32_t quorum = CommitQuorum(static_cast<uint32_t>(group.members->size()), group.f);
  if (signers.size() < quorum) {
    return absl::InvalidArgumentError(
        absl::StrFormat("checkpoint proof has %d signers, needs %d", signers.size(), quorum));
  }
  return absl::OkStatus();
}

absl::Status ValidateViewChange(const wire::ViewChange& vc, NodeId sender, uint64_t new_view, const GroupInfo& group,
                                const Identity& self, OpCounts& ops) {
  if (vc.replica() != sender || IndexIn(*group.members, sender) < 0) {
    return absl::InvalidArgumentError("VIEW-CHANGE from a non-member or for another replica");
  }
  if (vc.new_view() != new_view) return absl::InvalidArgumentError("VIEW-CHANGE for another view");
  uint64_t h = vc.stable_seq();
  if (group.checkpoint_interval > 0 && h % group.checkpoint_interval != 0) {
    return absl::InvalidArgumentError("stable checkpoint is not at a checkpoint sequence number");
  }
  if (h > 0) {
    absl::Status st =
        ValidateCheckpointProof(vc.checkpoint_proof(), h, Digest::FromBytes(vc.stable_digest()), group, self, ops);
    if (!st.ok()) return st;
  }
  auto check_claims = [&](const google::protobuf::RepeatedPtrField<wire::SlotClaim>& claims) -> absl::Status {
    std::set<std::pair<uint64_t, std::string>> seen;
    for (const wire::SlotClaim& c : claims) {
      if (c.seq() <= h || c.seq() > h + group.window) {
        return absl::InvalidArgumentError(
            absl::StrFormat("claim for seq %d outside (%d, %d]", c.seq(), h, h + group.window));
      }
      if (c.view() >= new_view) return absl::InvalidArgumentError("claim from a view not before the new one");
      if (c.digest().size() != 32) return absl::InvalidArgumentError("claim without a digest");
      if (!seen.insert({c.seq(), c.digest()}).second) return absl::InvalidArgumentError("duplicate claim");
    }
    return absl::OkStatus();
  };
  if (absl::Status st = check_claims(vc.prepared()); !st.ok()) return st;
  if (absl::Status st = check_claims(vc.pre_prepared()); !st.ok()) return st;
  std::set<uint64_t> prepared_seqs;
  for (const wire::SlotClaim& c : vc.prepared()) {
    if (!prepared_seqs.insert(c.seq()).second) return absl::InvalidArgumentError("two prepared claims for one seq");
  }
  if (vc.batches_size() != vc.prepared_size()) {
    return absl::InvalidArgumentError("VIEW-CHANGE must carry the batch of every prepared claim");
  }
  for (int i = 0; i < vc.batches_size(); ++i) {
    ops.checked_bytes += vc.batches(i).ByteSizeLong();
    if (BatchDigest(vc.batches(i)) != Digest::FromBytes(vc.prepared(i).digest())) {
      return absl::InvalidArgumentError(
          absl::StrFormat("batch for seq %d does not match its digest", vc.prepared(i).seq()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<NewViewPlan> SelectProposals(const std::vector<const wire::ViewChange*>& vcs, uint32_t n, uint32_t f) {
  const size_t quorum = Quorum(n, f);
  if (vcs.size() < quorum) return absl::FailedPreconditionError("fewer VIEW-CHANGEs than a quorum");
  NewViewPlan plan;
  for (const wire::ViewChange* vc : vcs) {
    if (plan.checkpoint_source == nullptr || vc->stable_seq() > plan.checkpoint_seq) {
      plan.checkpoint_seq = vc->stable_seq();
      plan.checkpoint_digest = Digest::FromBytes(vc->stable_digest());
      plan.checkpoint_source = vc;
    }
  }
  plan.max_prepared_seq = plan.checkpoint_seq;
  for (const wire::ViewChange* vc : vcs) {
    for (const wire::SlotClaim& c : vc->prepared()) plan.max_prepared_seq = std::max(plan.max_prepared_seq, c.seq());
  }
  static const wire::Batch kEmpty;
  for (uint64_t n = plan.checkpoint_seq + 1; n <= plan.max_prepared_seq; ++n) {
    // Candidates: every prepared claim for n, best first (highest view, then smallest digest), so
    // that the choice never depends on message order.
    struct Candidate {
      uint64_t view;
      std::string digest;
      const wire::Batch* batch;
    };
    std::vector<Candidate> candidates;
    size_t without_prepared = 0;
    for (const wire::ViewChange* vc : vcs) {
      bool has = false;
      for (int i = 0; i < vc->prepared_size(); ++i) {
        const wire::SlotClaim& c = vc->prepared(i);
        if (c.seq() != n) continue;
        has = true;
        candidates.push_back({c.view(), c.digest(), &vc->batches(i)});
      }
      without_prepared += !has;
    }
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
      return a.view != b.view ? a.view > b.view : a.digest < b.digest;
    });
    const Candidate* chosen = nullptr;
    for (const Candidate& cand : candidates) {
      // A1: 2f+1 VIEW-CHANGEs hold no prepared claim for n that conflicts with (view, digest).
      size_t a1 = 0, a2 = 0;
      for (const wire::ViewChange* vc : vcs) {
        bool conflict = false;
        for (const wire::SlotClaim& c : vc->prepared()) {
          if (c.seq() == n && (c.view() > cand.view || (c.view() == cand.view && c.digest() != cand.digest))) {
            conflict = true;
          }
        }
        a1 += !conflict;
        // A2: f+1 VIEW-CHANGEs pre-prepared this digest in this view or later.
        for (const wire::SlotClaim& c : vc->pre_prepared()) {
          if (c.seq() == n && c.digest() == cand.digest && c.view() >= cand.view) {
            ++a2;
            break;
          }
        }
      }
      if (a1 >= quorum && a2 >= f + 1) {
        chosen = &cand;
        break;
      }
    }
    if (chosen != nullptr) {
      plan.proposals.push_back({n, Digest::FromBytes(chosen->digest), chosen->batch});
    } else if (without_prepared >= quorum) {
      plan.proposals.push_back({n, BatchDigest(kEmpty), nullptr});
    } else {
      return absl::FailedPreconditionError(
          absl::StrFormat("sequence %d undecided with %d VIEW-CHANGEs", n, vcs.size()));
    }
  }
  return plan;
}

}  // namespace geopbft
