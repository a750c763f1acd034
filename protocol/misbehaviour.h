// Proofs of misbehaviour and complaints: what reputation's defence commits (DESIGN §4).
//
// A proof is two conflicting signed messages of one replica for one slot; anyone holding the keys'
// public halves can check it, so a replica that holds one may put it in a proposal and every
// replica that commits the proposal bars the culprit for good. Two kinds:
//  - two signed proposal headers (view, seq, digest) of one leader for one slot with different
//    digests: an equivocating leader (the leader signs each proposal's header; every PREPARE carries
//    the header signature of the proposal it prepares, so members holding the other proposal see it);
//  - two signed COMMITs of one replica for one (view, seq) with different digests.
// A complaint certificate is f+1 signed complaints of one cluster's members against the leader of
// one view (at least one from a correct member, so f liars cannot produce one).
#ifndef GEOPBFT_PROTOCOL_MISBEHAVIOUR_H_
#define GEOPBFT_PROTOCOL_MISBEHAVIOUR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/crypto.h"
#include "protocol/message.h"
#include "protocol/messages.pb.h"
#include "protocol/types.h"

namespace geopbft {

wire::SignedHeader HeaderOf(const Message& pre_prepare);  // the PRE-PREPARE's signed header
// The header a PREPARE vouches for: its (view, seq, digest) signed by `leader`.
wire::SignedHeader HeaderOfPrepare(const Message& prepare, NodeId leader);
bool CheckHeader(const wire::SignedHeader& h, const Identity& self, OpCounts& ops);

// A proof that `members[i]` misbehaved (the culprit must be one of `members`); -1 if not a proof.
int CheckProof(const wire::MisbehaviourProof& p, const std::vector<NodeId>& members, const Identity& self,
               OpCounts& ops);

// A complaint certificate of the group `members` (cluster `cluster`, f faults): f+1 distinct members'
// signed complaints, all for the same (view, accused). Returns false when it is not one.
struct ComplaintVerdict {
  uint64_t view = 0;
  uint32_t accused = 0;
};
bool CheckComplaints(const google::protobuf::RepeatedPtrField<wire::Envelope>& complaints, uint32_t cluster,
                     const std::vector<NodeId>& members, uint32_t f, const Identity& self, OpCounts& ops,
                     ComplaintVerdict* verdict);
// The same reading without checking signatures (committed certificates were checked by a quorum).
bool ReadComplaints(const google::protobuf::RepeatedPtrField<wire::Envelope>& complaints, ComplaintVerdict* verdict);

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_MISBEHAVIOUR_H_
