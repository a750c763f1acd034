#include "sim/byzantine.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "sim/distribution.h"

namespace geopbft {
namespace {

// A digest that is not the proposed one, and the same at every vote-against replica.
std::string OtherDigest(const std::string& d) { return std::string(Sha256(d + "/against").view()); }

// Re-seals a vote with the sender's own key, authenticated as the original was.
MessagePtr Reseal(wire::Envelope env, const Identity& self, const std::vector<NodeId>& group, OpCounts& ops) {
  bool signed_vote = !env.signature().empty();
  env.clear_signature();
  env.clear_macs();
  return Seal(std::move(env), self, signed_vote ? Auth::Signature() : Auth::MacGroup(&group), ops);
}

// The same proposal with a different batch (its last request dropped, or one request added twice).
MessagePtr AlternativeProposal(const Message& pp, const Identity& self, const std::vector<NodeId>& group,
                               OpCounts& ops) {
  const wire::PrePrepare& p = SealedEnvelope(pp).pre_prepare();
  std::vector<MessagePtr> requests;
  for (int i = 0; i < p.batch().requests_size(); ++i) {
    auto [r_ptr, r] = MakeMessage();
    *r->env.mutable_request() = p.batch().requests(i).request();
    r->env.set_signature(std::string(SignatureOf(p.batch().requests(i))));
    r->body_digest = pp.request_digests[i];
    requests.push_back(std::move(r_ptr));
  }
  if (requests.size() > 1) {
    requests.pop_back();
  } else if (requests.size() == 1) {
    requests.push_back(requests.front());
  }
  // A leader whose proposals must carry a signed header signs the other one too (or nobody would
  // accept it): the two headers are the proof of its equivocation.
  if (p.header_signature().empty()) return SealPrePrepare(p.view(), p.seq(), requests, self, &group, ops);
  wire::Batch extras = p.batch();  // the same evidence, proofs and complaints
  extras.clear_requests();
  return SealPrePrepare(p.view(), p.seq(), requests, self, &group, ops, &extras, true);
}

}  // namespace

ByzantineBehaviour::ByzantineBehaviour(const scenario::Byzantine& spec, TimeNs default_delay)
    : kind_(spec.behaviour()),
      from_(MsToNs(spec.from_s() * 1e3)),
      until_(MsToNs(spec.until_s() * 1e3)),
      delay_(spec.delay_ms() > 0 ? MsToNs(spec.delay_ms()) : default_delay),
      from_round_(spec.from_round()),
      twin_side_(spec.twin_side().begin(), spec.twin_side().end()) {
  std::sort(twin_side_.begin(), twin_side_.end());
}

std::string ByzantineBehaviour::Name() const {
  std::string name = absl::AsciiStrToLower(scenario::Byzantine::Behaviour_Name(kind_));
  absl::StrReplaceAll({{"_", "-"}}, &name);
  return !twin() && (from_ > 0 || from_round_ > 0) ? absl::StrCat("turncoat-", name) : name;
}

void ByzantineBehaviour::Apply(TimeNs now, uint64_t rounds, const Identity& self, const std::vector<NodeId>& group,
                               Effects& fx, std::vector<DelayedSend>& delayed) const {
  if (twin() || !Active(now, rounds)) return;
  std::vector<Outgoing> out;
  out.reserve(fx.sends.size());
  for (Outgoing& o : fx.sends) {
    MsgType t = o.msg->type;
    bool vote = t == MsgType::kPrepare || t == MsgType::kCommit;
    switch (kind_) {
      case scenario::Byzantine::SILENT:
        if (vote) continue;
        break;
      case scenario::Byzantine::VOTE_AGAINST:
        if (vote) {
          wire::Envelope env = o.msg->env;
          if (t == MsgType::kPrepare) env.mutable_prepare()->set_digest(OtherDigest(env.prepare().digest()));
          if (t == MsgType::kCommit) env.mutable_commit()->set_digest(OtherDigest(env.commit().digest()));
          o.msg = Reseal(std::move(env), self, group, fx.ops);
        }
        break;
      case scenario::Byzantine::LYING_EVIDENCE:
        if (t == MsgType::kCommit) {
          wire::Envelope env = o.msg->env;
          std::string all((group.size() + 7) / 8, '\0');
          for (size_t i = 0; i < group.size(); ++i) all[i / 8] = static_cast<char>(all[i / 8] | (1 << (i % 8)));
          env.mutable_commit()->set_prepare_evidence(all);
          o.msg = Reseal(std::move(env), self, group, fx.ops);
        }
        break;
      case scenario::Byzantine::EQUIVOCATE:
        if (t == MsgType::kPrePrepare && o.to == kToGroup &&
            SealedEnvelope(*o.msg).pre_prepare().batch().requests_size() > 0) {
          // Half the backups get the real proposal, the other half another batch for the same slot.
          MessagePtr other = AlternativeProposal(*o.msg, self, group, fx.ops);
          for (size_t i = 0; i < group.size(); ++i) {
            if (group[i] == self.self()) continue;
            out.push_back({i % 2 == 0 ? o.msg : other, group[i]});
          }
          continue;
        }
        break;
      case scenario::Byzantine::TWIN:
        break;  // each instance is honest: the engine splits the network, not the messages
      case scenario::Byzantine::SLOW_PRIMARY:
        if (t == MsgType::kPrePrepare) {
          delayed.push_back({now + delay_, std::move(o)});
          continue;
        }
        break;
    }
    out.push_back(std::move(o));
  }
  fx.sends = std::move(out);
}

}  // namespace geopbft
