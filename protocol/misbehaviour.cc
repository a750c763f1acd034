#include "protocol/misbehaviour.h"

#include <algorithm>

#include "absl/container/btree_set.h"

namespace geopbft {

wire::SignedHeader HeaderOf(const Message& pp) {
  wire::SignedHeader h;
  h.mutable_header()->set_view(pp.env.pre_prepare().view());
  h.mutable_header()->set_seq(pp.env.pre_prepare().seq());
  h.mutable_header()->set_digest(std::string(pp.batch_digest.view()));
  h.mutable_header()->set_leader(pp.sender);
  h.set_signature(pp.env.pre_prepare().header_signature());
  return h;
}

wire::SignedHeader HeaderOfPrepare(const Message& p, NodeId leader) {
  wire::SignedHeader h;
  h.mutable_header()->set_view(p.view);
  h.mutable_header()->set_seq(p.seq);
  h.mutable_header()->set_digest(p.env.prepare().digest());
  h.mutable_header()->set_leader(leader);
  h.set_signature(p.env.prepare().leader_signature());
  return h;
}

bool CheckHeader(const wire::SignedHeader& h, const Identity& self, OpCounts& ops) {
  const wire::ProposalHeader& ph = h.header();
  if (ph.digest().size() != 32 || h.signature().size() != kSignatureSize) return false;
  ops.hashed_bytes += 64;
  ++ops.verifies;
  return self.Verify(ph.leader(), ProposalHeaderDigest(ph.view(), ph.seq(), Digest::FromBytes(ph.digest()), ph.leader()),
                     h.signature());
}

int CheckProof(const wire::MisbehaviourProof& p, const std::vector<NodeId>& members, const Identity& self,
               OpCounts& ops) {
  auto it = std::find(members.begin(), members.end(), p.replica());
  if (it == members.end()) return -1;
  const int index = static_cast<int>(it - members.begin());
  if (p.has_first() && p.has_second()) {
    const wire::ProposalHeader &a = p.first().header(), &b = p.second().header();
    if (a.leader() != p.replica() || b.leader() != p.replica() || a.view() != b.view() || a.seq() != b.seq() ||
        a.digest() == b.digest()) {
      return -1;
    }
    return CheckHeader(p.first(), self, ops) && CheckHeader(p.second(), self, ops) ? index : -1;
  }
  if (p.has_first_commit() && p.has_second_commit()) {
    const wire::Envelope &a = p.first_commit(), &b = p.second_commit();
    if (a.body_case() != wire::Envelope::kCommit || b.body_case() != wire::Envelope::kCommit) return -1;
    const wire::Commit &ca = a.commit(), &cb = b.commit();
    if (a.sender() != p.replica() || b.sender() != p.replica() || ca.replica() != p.replica() ||
        cb.replica() != p.replica() || ca.view() != cb.view() || ca.seq() != cb.seq() || ca.digest() == cb.digest()) {
      return -1;
    }
    return CheckEmbeddedSignature(a, p.replica(), self, ops) && CheckEmbeddedSignature(b, p.replica(), self, ops) ? index
                                                                                                                  : -1;
  }
  return -1;
}

bool ReadComplaints(const google::protobuf::RepeatedPtrField<wire::Envelope>& complaints, ComplaintVerdict* verdict) {
  if (complaints.empty() || complaints[0].body_case() != wire::Envelope::kComplaint) return false;
  verdict->view = complaints[0].complaint().view();
  verdict->accused = complaints[0].complaint().accused();
  return true;
}

bool CheckComplaints(const google::protobuf::RepeatedPtrField<wire::Envelope>& complaints, uint32_t cluster,
                     const std::vector<NodeId>& members, uint32_t f, const Identity& self, OpCounts& ops,
                     ComplaintVerdict* verdict) {
  if (complaints.empty()) return true;
  if (!ReadComplaints(complaints, verdict) || complaints.size() > static_cast<int>(members.size())) return false;
  absl::btree_set<NodeId> signers;
  for (const wire::Envelope& e : complaints) {
    if (e.body_case() != wire::Envelope::kComplaint) return false;
    const wire::Complaint& c = e.complaint();
    if (c.cluster() != cluster || c.view() != verdict->view || c.accused() != verdict->accused ||
        c.accused() >= members.size() || c.replica() != e.sender() ||
        std::find(members.begin(), members.end(), e.sender()) == members.end() || !signers.insert(e.sender()).second) {
      return false;
    }
    if (!CheckEmbeddedSignature(e, e.sender(), self, ops)) return false;
  }
  return signers.size() >= f + 1;
}

}  // namespace geopbft
