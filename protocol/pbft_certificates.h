// Certificates of PBFT's fault handling, as pure functions so that every replica (and every test)
// validates them the same way:
//  - checkpoint proofs: 2f+1 distinct members signed CHECKPOINT(seq, state digest);
//  - VIEW-CHANGE messages: structure, checkpoint proof, batches matching their claimed digests;
//  - the NEW-VIEW selection rule (Castro & Liskov, TOCS 2002, §4.4): from 2f+1 VIEW-CHANGEs, which
//    batch (or null request) each sequence number gets in the new view. The new primary computes
//    it and every backup recomputes it from the same VIEW-CHANGEs before accepting the NEW-VIEW.
#ifndef GEOPBFT_PROTOCOL_PBFT_CERTIFICATES_H_
#define GEOPBFT_PROTOCOL_PBFT_CERTIFICATES_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "protocol/crypto.h"
#include "protocol/message.h"
#include "protocol/quorum.h"

namespace geopbft {

struct GroupInfo {
  const std::vector<NodeId>* members = nullptr;
  uint32_t f = 0;
  uint32_t window = 0;               // watermark window L
  uint32_t checkpoint_interval = 0;  // K
};

// SHA-256 of a batch as carried in PRE-PREPAREs (and as re-proposed in NEW-VIEWs).
Digest BatchDigest(const wire::Batch& batch);

absl::Status ValidateCheckpointProof(const google::protobuf::RepeatedPtrField<wire::Envelope>& proof, uint64_t seq,
                                     const Digest& state_digest, const GroupInfo& group, const Identity& self,
                                     OpCounts& ops);

absl::Status ValidateViewChange(const wire::ViewChange& vc, NodeId sender, uint64_t new_view, const GroupInfo& group,
                                const Identity& self, OpCounts& ops);

struct Proposal {
  uint64_t seq = 0;
  Digest digest;                       // of the batch; of the empty batch for a null request
  const wire::Batch* batch = nullptr;  // null request when nullptr
};

struct NewViewPlan {
  // (Castro & Liskov's min-s and max-s.)
  uint64_t checkpoint_seq = 0;  // the latest stable checkpoint any VIEW-CHANGE proves: the view starts there
  Digest checkpoint_digest;     // its state digest
  const wire::ViewChange* checkpoint_source = nullptr;  // the VIEW-CHANGE carrying that proof
  uint64_t max_prepared_seq = 0;                        // the highest prepared sequence number claimed
  std::vector<Proposal> proposals;                      // one per seq in (checkpoint_seq, max_prepared_seq], ascending
};

// The selection rule over validated VIEW-CHANGEs (at least a quorum, from distinct replicas of a
// group of n).
// Fails (FailedPrecondition) when some sequence number cannot be decided yet: wait for more.
absl::StatusOr<NewViewPlan> SelectProposals(const std::vector<const wire::ViewChange*>& vcs, uint32_t n, uint32_t f);

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_PBFT_CERTIFICATES_H_
