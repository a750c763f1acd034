#include "protocol/message.h"

#include <bit>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"

namespace geopbft {
namespace {

// A message serialized into `scratch`, whose capacity is kept between calls: every message sent
// is serialized to be hashed and the bytes are dropped right after, so allocating a string for
// them each time cost more than the serialization. Valid until the next use of the same scratch.
std::string_view Serialized(const google::protobuf::MessageLite& msg, std::string& scratch) {
  scratch.clear();
  msg.AppendToString(&scratch);
  return scratch;
}

// The body of an envelope as its own message.
const google::protobuf::MessageLite* BodyOf(const wire::Envelope& env) {
  switch (env.body_case()) {
    case MsgType::kRequest:
      return &env.request();
    case MsgType::kPrePrepare:
      return &env.pre_prepare();
    case MsgType::kPrepare:
      return &env.prepare();
    case MsgType::kCommit:
      return &env.commit();
    case MsgType::kReply:
      return &env.reply();
    case MsgType::kCheckpoint:
      return &env.checkpoint();
    case MsgType::kFetchState:
      return &env.fetch_state();
    case MsgType::kStateTransfer:
      return &env.state_transfer();
    case MsgType::kViewChange:
      return &env.view_change();
    case MsgType::kNewView:
      return &env.new_view();
    case MsgType::kStatus:
      return &env.status();
    case MsgType::kGlobalShare:
      return &env.global_share();
    case MsgType::kRemoteViewChangeRequest:
      return &env.remote_view_change_request();
    case MsgType::kRemoteViewChange:
      return &env.remote_view_change();
    case MsgType::kGlobalStateRequest:
      return &env.global_state_request();
    case MsgType::kGlobalState:
      return &env.global_state();
    case MsgType::kComplaint:
      return &env.complaint();
    case MsgType::kAccusation:
      return &env.accusation();
    case MsgType::BODY_NOT_SET:
      break;
  }
  return nullptr;
}

// The body of an envelope as its own message, serialized (into a scratch buffer, see Serialized).
std::string_view SerializeBody(const wire::Envelope& env) {
  static std::string scratch;
  const google::protobuf::MessageLite* body = BodyOf(env);
  if (body == nullptr) return {};
  return Serialized(*body, scratch);
}

// A batch serialized, into its own scratch buffer (a batch is hashed next to its message's body).
std::string_view SerializeBatch(const wire::Batch& batch) {
  static std::string scratch;
  return Serialized(batch, scratch);
}

// The modelled application payload a message carries: a request's, or a batch's requests'.
void FillPayload(Message& m) {
  if (m.type == MsgType::kRequest) m.payload_bytes = m.env.request().payload_size();
  if (const wire::Batch* batch = CarriedBatch(m)) {
    uint64_t payload = 0;
    for (const auto& r : batch->requests()) payload += r.request().payload_size();
    m.payload_bytes = static_cast<uint32_t>(std::min<uint64_t>(payload, UINT32_MAX));
  }
}

void FillHeader(Message& m) {
  const wire::Envelope& e = m.env;
  m.type = e.body_case();
  m.sender = e.sender();
  switch (m.type) {
    case MsgType::kPrePrepare:
      m.view = e.pre_prepare().view();
      m.seq = e.pre_prepare().seq();
      break;
    case MsgType::kPrepare:
      m.view = e.prepare().view();
      m.seq = e.prepare().seq();
      m.voter = e.prepare().replica();
      m.vote_digest = Digest::FromBytes(e.prepare().digest());
      break;
    case MsgType::kCommit:
      m.view = e.commit().view();
      m.seq = e.commit().seq();
      m.voter = e.commit().replica();
      m.vote_digest = Digest::FromBytes(e.commit().digest());
      break;
    case MsgType::kReply:
      m.view = e.reply().view();
      m.seq = e.reply().timestamp();
      m.reply_client = e.reply().client();
      m.reply_result = e.reply().result();
      m.reply_from_sender = e.reply().replica() == e.sender();
      break;
    case MsgType::kRequest:
      m.seq = e.request().timestamp();
      break;
    case MsgType::kCheckpoint:
      m.seq = e.checkpoint().seq();
      break;
    case MsgType::kFetchState:
      m.seq = e.fetch_state().seq();
      break;
    case MsgType::kStateTransfer:
      m.seq = e.state_transfer().snapshot().seq();
      break;
    case MsgType::kViewChange:
      m.view = e.view_change().new_view();
      m.seq = e.view_change().stable_seq();
      break;
    case MsgType::kNewView:
      m.view = e.new_view().view();
      break;
    case MsgType::kStatus:
      m.view = e.status().view();
      m.seq = e.status().last_executed();
      break;
    case MsgType::kGlobalShare:
      m.view = e.global_share().view();
      m.seq = e.global_share().round();
      break;
    case MsgType::kRemoteViewChangeRequest:
      m.seq = e.remote_view_change_request().round();
      break;
    case MsgType::kRemoteViewChange:
      m.seq = e.remote_view_change().round();
      break;
    case MsgType::kGlobalStateRequest:
      m.seq = e.global_state_request().round();
      break;
    case MsgType::kGlobalState:
      break;
    case MsgType::kComplaint:
      m.view = e.complaint().view();
      m.seq = e.complaint().round();
      break;
    case MsgType::kAccusation:
      break;
    case MsgType::BODY_NOT_SET:
      break;
  }
  FillPayload(m);
}

// After `id` put its authenticator on `m`: a MAC for `to`, or a signature (see Message::SealedTag).
void NoteSealedTag(Message& m, const Identity& id, NodeId to) {
  m.sealed_tag.receiver = id.mode() == CryptoMode::kFast && m.sender == id.self() ? to : Message::SealedTag::kNone;
}

void Authenticate(Message& m, const Identity& id, Auth auth, OpCounts& ops) {
  switch (auth.kind) {
    case Auth::Kind::kSignature:
      m.env.set_signature(id.Sign(m.body_digest));
      ++ops.signs;
      NoteSealedTag(m, id, Message::SealedTag::kSignature);
      break;
    case Auth::Kind::kMacTo:
      id.MacInto(auth.to, m.body_digest, ResizeMacs(m.env, kMacSize));
      ++ops.macs;
      NoteSealedTag(m, id, auth.to);
      break;
    case Auth::Kind::kMacGroup: {
      // The sender's own slot is kept (zeros) so offsets match group positions.
      char* tags = ResizeMacs(m.env, auth.group->size() * kMacSize);
      for (size_t i = 0; i < auth.group->size(); ++i) {
        const NodeId member = (*auth.group)[i];
        if (member == id.self()) continue;
        id.MacInto(member, m.body_digest, tags + i * kMacSize);
        ++ops.macs;
      }
      break;
    }
  }
}

void Finish(Message& m) { m.wire_size = static_cast<uint32_t>(m.env.ByteSizeLong()) + m.payload_bytes; }

}  // namespace

std::string_view MsgTypeName(MsgType t) {
  switch (t) {
    case MsgType::kRequest:
      return "REQUEST";
    case MsgType::kPrePrepare:
      return "PRE-PREPARE";
    case MsgType::kPrepare:
      return "PREPARE";
    case MsgType::kCommit:
      return "COMMIT";
    case MsgType::kReply:
      return "REPLY";
    case MsgType::kCheckpoint:
      return "CHECKPOINT";
    case MsgType::kFetchState:
      return "FETCH-STATE";
    case MsgType::kStateTransfer:
      return "STATE-TRANSFER";
    case MsgType::kViewChange:
      return "VIEW-CHANGE";
    case MsgType::kNewView:
      return "NEW-VIEW";
    case MsgType::kStatus:
      return "STATUS";
    case MsgType::kGlobalShare:
      return "GLOBAL-SHARE";
    case MsgType::kRemoteViewChangeRequest:
      return "DRVC";
    case MsgType::kRemoteViewChange:
      return "RVC";
    case MsgType::kGlobalStateRequest:
      return "GLOBAL-STATE-REQUEST";
    case MsgType::kGlobalState:
      return "GLOBAL-STATE";
    case MsgType::kComplaint:
      return "COMPLAINT";
    case MsgType::kAccusation:
      return "ACCUSATION";
    case MsgType::BODY_NOT_SET:
      break;
  }
  return "NONE";
}

namespace {

// Seal's work on a message whose envelope is in place. `batch_of`: the PRE-PREPARE whose batch a
// GLOBAL-SHARE carries (SealShare), whose digest of those very bytes is taken instead of hashing
// them again (charged all the same).
void SealInPlace(Message& m, const Identity& id, Auth auth, OpCounts& ops, const Message* batch_of = nullptr) {
  m.env.set_sender(id.self());
  FillHeader(m);
  if (m.type == MsgType::kGlobalShare) {
    // Digest the certificate's batch once, for every receiver to compare against.
    const wire::Batch& carried = m.env.global_share().batch();
    if (batch_of != nullptr) {
      m.batch_digest = batch_of->batch_digest;
      ops.hashed_bytes += carried.ByteSizeLong();
    } else {
      std::string_view batch = SerializeBatch(carried);
      m.batch_digest = Sha256(batch);
      ops.hashed_bytes += batch.size();
    }
  }
  std::string_view body = SerializeBody(m.env);
  m.body_bytes = static_cast<uint32_t>(body.size());
  m.body_digest = id.BodyDigest(body);
  ops.hashed_bytes += body.size() + m.payload_bytes;
  Authenticate(m, id, auth, ops);
  Finish(m);
}

}  // namespace

MessagePtr Seal(wire::Envelope env, const Identity& id, Auth auth, OpCounts& ops) {
  auto [m_ptr, m] = MakeMessage();
  m->env = std::move(env);
  SealInPlace(*m, id, auth, ops);
  return m_ptr;
}

MessagePtr Seal(NewMessage built, const Identity& id, Auth auth, OpCounts& ops) {
  SealInPlace(*built.m, id, auth, ops);
  return std::move(built.ptr);
}

namespace {
using google::protobuf::io::CodedOutputStream;
size_t VarintSize(uint64_t v) { return CodedOutputStream::VarintSize64(v); }
// A proto3 varint field: omitted when zero.
uint8_t* PutField(uint32_t field, uint64_t v, uint8_t* p) {
  if (v == 0) return p;
  *p++ = static_cast<uint8_t>(field << 3);
  return CodedOutputStream::WriteVarint64ToArray(v, p);
}
// What PutField writes for a field (tags 1-15 take one byte).
size_t FieldSize(uint64_t v) { return v == 0 ? 0 : 1 + VarintSize(v); }
// WriteReplyBody's length, without writing the body: a FAST reply's size is final when it is
// built, its bytes are written only if something reads them (SealedEnvelope).
size_t ReplyBodySize(uint64_t view, NodeId client, uint64_t timestamp, NodeId replica, uint64_t result) {
  return FieldSize(view) + FieldSize(client) + FieldSize(timestamp) + FieldSize(replica) + FieldSize(result);
}
}  // namespace

size_t WriteReplyBody(uint64_t view, NodeId client, uint64_t timestamp, NodeId replica, uint64_t result, uint8_t* out) {
  uint8_t* p = PutField(1, view, out);
  p = PutField(2, client, p);
  p = PutField(3, timestamp, p);
  p = PutField(4, replica, p);
  p = PutField(5, result, p);
  return static_cast<size_t>(p - out);
}

MessagePtr SealReply(uint64_t view, NodeId client, uint64_t timestamp, uint64_t result, const Identity& id,
                     OpCounts& ops) {
  NewMessage built = MakeReplyMessage();
  Message& m = *built.m;
  // What Seal would work out, written out: the body's bytes as protobuf serializes them, the
  // envelope's size (sender, body, one tag; no signature). Replies are two thirds of a GeoBFT run's
  // messages, and going through the generic serializer twice (for the digest, then the size) cost
  // more than the rest of building one. A test holds it to what Seal gives.
  m.type = MsgType::kReply;
  m.sender = id.self();
  m.view = view;
  m.seq = timestamp;
  m.reply_client = client;
  m.reply_result = result;
  m.reply_from_sender = true;
  const size_t n = ReplyBodySize(view, client, timestamp, id.self(), result);
  m.body_bytes = static_cast<uint32_t>(n);
  ops.hashed_bytes += n + m.payload_bytes;
  ++ops.macs;
  const size_t sender = FieldSize(id.self());
  const size_t tag = 1 + VarintSize(kMacSize) + kMacSize;
  m.wire_size = static_cast<uint32_t>(sender + 1 + VarintSize(n) + n + tag) + m.payload_bytes;
  m.reply_keys = id.keys();
  m.reply_unsealed = true;
  NoteSealedTag(m, id, client);
  // REAL crypto computes what it charges, at once; FAST leaves it to whoever reads it (if anyone).
  if (m.sealed_tag.receiver == Message::SealedTag::kNone) SealedEnvelope(m);
  return std::move(built.ptr);
}

const wire::Envelope& SealedEnvelope(const Message& m) {
  if (!m.reply_unsealed) {
    RestoreCompactedBatch(m);
    return m.env;
  }
  // (The message was made non-const and is shared read-only; nothing runs in between: the
  // simulator is single-threaded. Every field is written from the header, so what a pooled reply
  // held before cannot show.)
  Message& w = const_cast<Message&>(m);
  const Identity id(m.reply_keys, m.sender);
  wire::Reply* r = w.env.mutable_reply();
  r->set_view(m.view);
  r->set_client(m.reply_client);
  r->set_timestamp(m.seq);
  r->set_replica(m.sender);
  r->set_result(m.reply_result);
  w.env.set_sender(m.sender);
  uint8_t body[kMaxReplyBody];
  const size_t n = WriteReplyBody(m.view, m.reply_client, m.seq, m.sender, m.reply_result, body);
  w.body_digest = id.BodyDigest({reinterpret_cast<const char*>(body), n});
  id.MacInto(m.reply_client, w.body_digest, ResizeMacs(w.env, kMacSize));
  w.reply_unsealed = false;
  return m.env;
}

MessagePtr SealShare(wire::Envelope env, const MessagePtr& source, const Identity& id, OpCounts& ops) {
  auto [m_ptr, m] = MakeMessage();
  m->env = std::move(env);
  // The source's batch is lent to the envelope while it is sealed (a swap of pointers, no copy),
  // so that everything computed from the bytes is what a copy would give, then given back. The
  // source is shared and immutable, and stays so for everyone else: nothing runs in between (the
  // simulator is single-threaded).
  auto* lent = const_cast<wire::Batch*>(&SealedEnvelope(*source).pre_prepare().batch());
  wire::Batch* carried = m->env.mutable_global_share()->mutable_batch();
  carried->Swap(lent);
  SealInPlace(*m, id, Auth::Signature(), ops, source.get());
  carried->Swap(lent);
  m->batch_source = source;
  return m_ptr;
}

void SetSignature(wire::SignedRequest& r, std::string_view bytes) {
  const size_t words = (bytes.size() + sizeof(uint64_t) - 1) / sizeof(uint64_t);
  r.mutable_signature()->Resize(static_cast<int>(words), 0);
  if (words > 0) {
    r.mutable_signature()->mutable_data()[words - 1] = 0;  // (padding of a short last word)
    std::memcpy(r.mutable_signature()->mutable_data(), bytes.data(), bytes.size());
  }
}

MessagePtr UnpackRequest(const wire::SignedRequest& r, const Digest& body_digest) {
  auto [m_ptr, m] = MakeMessage();
  *m->env.mutable_request() = r.request();
  m->env.set_sender(r.request().client());
  m->env.set_signature(std::string(SignatureOf(r)));
  FillHeader(*m);
  m->body_bytes = static_cast<uint32_t>(r.request().ByteSizeLong());
  m->body_digest = body_digest;
  Finish(*m);
  return m_ptr;
}

MessagePtr SealPrePrepare(uint64_t view, uint64_t seq, const std::vector<MessagePtr>& requests, const Identity& id,
                          const std::vector<NodeId>* group, OpCounts& ops, wire::Batch* extras, bool sign_header) {
  auto [m_ptr, m] = MakeMessage();
  wire::PrePrepare* pp = m->env.mutable_pre_prepare();
  pp->set_view(view);
  pp->set_seq(seq);
  if (extras) pp->mutable_batch()->Swap(extras);
  m->request_digests.reserve(requests.size());
  for (const MessagePtr& r : requests) {
    wire::SignedRequest* sr = pp->mutable_batch()->add_requests();
    *sr->mutable_request() = r->env.request();
    SetSignature(*sr, r->env.signature());
    m->request_digests.push_back(r->body_digest);
  }
  std::string_view batch = SerializeBatch(pp->batch());
  m->batch_digest = Sha256(batch);
  pp->set_digest(std::string(m->batch_digest.view()));
  if (sign_header) {
    pp->set_header_signature(id.Sign(ProposalHeaderDigest(view, seq, m->batch_digest, id.self())));
    ++ops.signs;
  }
  m->env.set_sender(id.self());
  FillHeader(*m);
  ops.hashed_bytes += batch.size() + m->payload_bytes;
  std::string_view body = SerializeBody(m->env);
  m->body_bytes = static_cast<uint32_t>(body.size());
  m->body_digest = id.BodyDigest(body);
  ops.hashed_bytes += body.size();
  Authenticate(*m, id, Auth::MacGroup(group), ops);
  Finish(*m);
  return m_ptr;
}

Digest ProposalHeaderDigest(uint64_t view, uint64_t seq, const Digest& digest, NodeId leader) {
  wire::ProposalHeader h;
  h.set_view(view);
  h.set_seq(seq);
  h.set_digest(std::string(digest.view()));
  h.set_leader(leader);
  return Sha256(h.SerializeAsString());
}

bool CheckProposalHeader(uint64_t view, uint64_t seq, const Digest& digest, NodeId leader, std::string_view signature,
                         const Identity& self, OpCounts& ops) {
  if (signature.size() != kSignatureSize) return false;
  ops.checked_bytes += 64;
  ++ops.verifies;
  return self.Verify(leader, ProposalHeaderDigest(view, seq, digest, leader), signature);
}

bool CheckAuth(const Message& m, const Identity& self, uint32_t self_index, OpCounts& ops) {
  // The receiver re-hashes what it received before checking the tag (charged, not recomputed:
  // the builder's digest of the same bytes is exact).
  ops.checked_bytes += m.body_bytes;
  // (An authenticator Seal made for us: what the checks below would find.)
  if (m.sealed_tag.receiver == Message::SealedTag::kSignature) {
    ++ops.verifies;
    return true;
  }
  if (m.sealed_tag.receiver == self.self()) {
    ++ops.mac_checks;
    return true;
  }
  SealedEnvelope(m);
  if (!m.env.signature().empty()) {
    ++ops.verifies;
    return self.Verify(m.sender, m.body_digest, m.env.signature());
  }
  const std::string_view macs = MacBytes(m.env);
  ++ops.mac_checks;
  if (macs.size() == kMacSize) return self.VerifyMacFrom(m.sender, m.body_digest, macs);
  if (self_index >= MacCount(m.env)) return false;
  return self.VerifyMacFrom(m.sender, m.body_digest, MacAt(m.env, self_index));
}

bool CheckEmbeddedSignature(const wire::Envelope& env, NodeId signer, const Identity& self, OpCounts& ops) {
  if (env.sender() != signer || env.signature().empty()) return false;
  std::string_view body = SerializeBody(env);
  ops.checked_bytes += body.size();
  ++ops.verifies;
  return self.Verify(signer, self.BodyDigest(body), env.signature());
}

bool CheckEmbeddedSignatures(const Message& m, const Identity& self, OpCounts& ops, uint32_t known) {
  Message::Memo& memo = m.memo;
  if (memo.embedded_valid < 0) {
    bool valid = true;
    auto check = [&](const wire::Envelope& e) {
      valid = valid && CheckEmbeddedSignature(e, e.sender(), self, memo.embedded_cost);
    };
    if (m.type == MsgType::kGlobalShare) {
      for (const wire::Envelope& e : m.env.global_share().commits()) check(e);
    } else if (m.type == MsgType::kPrePrepare) {
      const wire::PrePrepare& pp = m.env.pre_prepare();
      for (const wire::VoteEvidence& ev : pp.batch().evidence()) {
        for (const wire::Envelope& e : ev.commits()) check(e);
      }
      // The leader's signed header (reputation's defence), checked once for every receiver too.
      if (!pp.header_signature().empty()) {
        valid = valid && CheckProposalHeader(pp.view(), pp.seq(), m.batch_digest, m.sender, pp.header_signature(), self,
                                             memo.embedded_cost);
      }
    }
    memo.embedded_valid = valid ? 1 : 0;
  }
  OpCounts cost = memo.embedded_cost;
  cost.verifies -= std::min(cost.verifies, known);
  ops.Add(cost);
  return memo.embedded_valid == 1;
}

uint32_t FirstUnsignedRequest(const Message& m, const Identity& self) {
  int32_t& first = m.memo.first_unsigned_request;
  if (first < 0) {
    const auto& requests = SealedEnvelope(m).pre_prepare().batch().requests();
    first = 0;
    while (first < requests.size() && static_cast<size_t>(first) < m.request_digests.size() &&
           self.Verify(requests[first].request().client(), m.request_digests[first], SignatureOf(requests[first]))) {
      ++first;
    }
  }
  return static_cast<uint32_t>(first);
}

absl::StatusOr<MessagePtr> DecodeMessage(std::string_view bytes, CryptoMode mode) {
  auto [m_ptr, m] = MakeMessage();
  if (!m->env.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError("unparseable envelope");
  }
  if (m->env.body_case() == MsgType::BODY_NOT_SET) {
    return absl::InvalidArgumentError("envelope without a body");
  }
  if (m->env.signature().empty() == m->env.macs().empty()) {
    return absl::InvalidArgumentError("envelope must carry exactly one of signature or MACs");
  }
  if (MacBytes(m->env).size() % kMacSize != 0) {
    return absl::InvalidArgumentError("authenticator is not a whole number of MACs");
  }
  FillHeader(*m);
  std::string_view body = SerializeBody(m->env);
  m->body_bytes = static_cast<uint32_t>(body.size());
  m->body_digest = BodyDigest(body, mode);
  if (m->type == MsgType::kGlobalShare) m->batch_digest = Sha256(SerializeBatch(m->env.global_share().batch()));
  if (m->type == MsgType::kPrePrepare) {
    const wire::PrePrepare& pp = m->env.pre_prepare();
    m->batch_digest = Sha256(SerializeBatch(pp.batch()));
    for (const auto& r : pp.batch().requests()) {
      m->request_digests.push_back(BodyDigest(r.request().SerializeAsString(), mode));
    }
  }
  Finish(*m);
  return m_ptr;
}

std::string EncodeMessage(const Message& m) {
  if (!m.batch_source) return SealedEnvelope(m).SerializeAsString();
  wire::Envelope full = m.env;  // a share whose batch is its source's: written in as it travels
  *full.mutable_global_share()->mutable_batch() = *CarriedBatch(m);
  return full.SerializeAsString();
}

}  // namespace geopbft
