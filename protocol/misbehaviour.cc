#include "protocol/misbehaviour.h"

#include <algorithm>

#include "absl/container/btree_set.h"

namespace geopbft {

namespace {

wire::SignedHeader Signed(uint64_t view, uint64_t seq, std::string digest, NodeId leader,
                          const std::string& signature) {
  wire::SignedHeader h;
  h.mutable_header()->set_view(view);
  h.mutable_header()->set_seq(seq);
  h.mutable_header()->set_digest(std::move(digest));
  h.mutable_header()->set_leader(leader);
  h.set_signature(signature);
  return h;
}

}  // namespace

wire::SignedHeader HeaderOf(const Message& pp) {
  const wire::PrePrepare& p = pp.env.pre_prepare();
  return Signed(p.view(), p.seq(), std::string(pp.batch_digest.view()), pp.sender, p.header_signature());
}

wire::SignedHeader HeaderOfPrepare(const Message& p, NodeId leader) {
  return Signed(p.view, p.seq, p.env.prepare().digest(), leader, p.env.prepare().leader_signature());
}

bool CheckHeader(const wire::SignedHeader& h, const Identity& self, OpCounts& ops) {
  const wire::ProposalHeader& ph = h.header();
  return ph.digest().size() == 32 && CheckProposalHeader(ph.view(), ph.seq(), Digest::FromBytes(ph.digest()),
                                                         ph.leader(), h.signature(), self, ops);
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
    return CheckEmbeddedSignature(a, p.replica(), self, ops) && CheckEmbeddedSignature(b, p.replica(), self, ops)
               ? index
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
