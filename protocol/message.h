// An immutable, sealed message: built once by its sender (serialized once for size, digested once,
// signed or MAC'd once) and shared by every receiver of a broadcast through a MessagePtr.
#ifndef GEOPBFT_PROTOCOL_MESSAGE_H_
#define GEOPBFT_PROTOCOL_MESSAGE_H_

#include <bit>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/crypto.h"
#include "protocol/messages.pb.h"
#include "protocol/types.h"

namespace geopbft {

using MsgType = wire::Envelope::BodyCase;
std::string_view MsgTypeName(MsgType t);

// Crypto work done while building or checking messages; the simulator turns it into CPU time.
// What a step cost in cryptography, split by side: checking what arrived (a multi-core replica's
// worker cores do it, see cpu.cores) and producing what it sends or keeps (its ordering core).
struct OpCounts {
  uint32_t signs = 0;
  uint32_t verifies = 0;       // signature checks (always of something received)
  uint32_t macs = 0;           // MACs made
  uint32_t mac_checks = 0;     // MACs checked
  uint64_t hashed_bytes = 0;   // hashing what the replica builds (messages, checkpoints, the chain)
  uint64_t checked_bytes = 0;  // re-hashing what it received, to check it
  void Add(const OpCounts& o) {
    signs += o.signs;
    verifies += o.verifies;
    macs += o.macs;
    mac_checks += o.mac_checks;
    hashed_bytes += o.hashed_bytes;
    checked_bytes += o.checked_bytes;
  }
};

// A request as execution sees it: whose, and which (at-most-once is per client and timestamp).
struct RequestId {
  NodeId client = 0;
  uint64_t timestamp = 0;
};

// The clients' reply reports a batch carries (Request.answered), counted: how many of its requests
// carry a report, and for each bit position (a member of the cluster the client reports on) how
// many of those reports set it.
struct ReplyTally {
  uint32_t reports = 0;
  std::vector<uint32_t> answered;
};
ReplyTally TallyReplyReports(const wire::Batch& batch);

struct Message;

// Shared ownership of an immutable message. Like std::shared_ptr<const Message>, but the count
// lives in the message and is not atomic: the simulator is single-threaded (each sweep worker is
// a process), and a broadcast to n replicas copies its pointer into n events, n inboxes and n
// steps — with std::shared_ptr every one of those copies is a locked instruction.
class MessagePtr {
 public:
  MessagePtr() noexcept = default;
  MessagePtr(std::nullptr_t) noexcept {}  // NOLINT: a null message, as with shared_ptr
  inline MessagePtr(const MessagePtr& o) noexcept;
  MessagePtr(MessagePtr&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  MessagePtr& operator=(const MessagePtr& o) noexcept {
    MessagePtr(o).swap(*this);
    return *this;
  }
  MessagePtr& operator=(MessagePtr&& o) noexcept {
    MessagePtr(std::move(o)).swap(*this);
    return *this;
  }
  inline ~MessagePtr();
  // Takes ownership of a message nobody owns yet.
  static inline MessagePtr Adopt(const Message* m) noexcept;
  void swap(MessagePtr& o) noexcept { std::swap(p_, o.p_); }
  void reset() noexcept { MessagePtr().swap(*this); }
  const Message* get() const noexcept { return p_; }
  const Message* operator->() const noexcept { return p_; }
  const Message& operator*() const noexcept { return *p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  friend bool operator==(const MessagePtr& a, const MessagePtr& b) noexcept { return a.p_ == b.p_; }
  friend bool operator==(const MessagePtr& a, std::nullptr_t) noexcept { return a.p_ == nullptr; }

 private:
  const Message* p_ = nullptr;
};

struct Message {
  // Owners (MessagePtr); a copy of the message starts with none.
  struct RefCount {
    uint32_t n = 0;
    RefCount() = default;
    RefCount(const RefCount&) {}
    RefCount& operator=(const RefCount&) { return *this; }
  };
  // What every delivery reads comes first, in the message's first cache line: the message was
  // built a WAN latency ago and is cold by the time it arrives, so each further line it touches
  // is a miss (the owner count, the header the trace folds, the size the receive buffer counts).
  // A REPLY's receiver reads nothing else (see SealedTag): replies are two thirds of a GeoBFT
  // run's messages, and their client read the body and the tag, two lines more, for each.
  mutable RefCount refs;
  // Built by SealReply (or MakeRequestMessage): when its last owner lets go it is kept for the next
  // reply (request) (ReleaseMessage). A copy is another message (tests and Byzantine behaviours
  // alter copies): it is freed.
  struct PoolMark {
    enum class Kind : uint8_t { kNone, kReply, kRequest };
    Kind kind = Kind::kNone;
    PoolMark() = default;
    PoolMark(const PoolMark&) {}
    PoolMark& operator=(const PoolMark&) { return *this; }
  };
  PoolMark pooled;
  bool reply_from_sender = false;  // REPLY: its body names its sender as the replica that answers
  // FAST crypto, a REPLY from SealReply: its header is final, its envelope, body digest and tag
  // are not written yet (SealedEnvelope writes them, from the header, when something reads them).
  // Why: its client reads the header alone (see SealedTag), and writing the rest was most of
  // building a reply — four cold lines and a digest and a MAC nobody reads, for two thirds of a
  // GeoBFT run's messages. It is charged the same work either way.
  bool reply_unsealed = false;  // (written by SealedEnvelope through a shared, const message)
  MsgType type = MsgType::BODY_NOT_SET;
  NodeId sender = 0;
  uint32_t wire_size = 0;      // serialized envelope + payload: what the network carries
  uint32_t body_bytes = 0;     // serialized body size (what gets hashed)
  uint64_t view = 0;           // of the body, 0 when it has none (trace and metrics only)
  uint64_t seq = 0;            // (a REPLY's: its request's timestamp)
  uint32_t payload_bytes = 0;  // modelled application payload carried (requests' payload_size)
  // PREPARE and COMMIT: the voter their body names, decoded once for all receivers (a vote is read
  // by every member; the header is where they look first).
  NodeId voter = 0;
  NodeId reply_client = 0;  // REPLY: the client its body names
  // FAST crypto: whom the authenticator is good for when Seal computed it as the message's sender:
  // the receiver of its single MAC, or anyone for a signature (kNone otherwise). It is valid by
  // construction, so such a receiver's CheckAuth is charged the check without reading the tag (as
  // with the body digest, which receivers are charged for and never recompute). A copy starts
  // without it: tests and Byzantine behaviours alter copies, and their tags are checked for real.
  struct SealedTag {
    static constexpr NodeId kNone = UINT32_MAX;
    static constexpr NodeId kSignature = UINT32_MAX - 1;
    NodeId receiver = kNone;
    SealedTag() = default;
    SealedTag(const SealedTag&) {}
    SealedTag& operator=(const SealedTag&) {
      receiver = kNone;
      return *this;
    }
  };
  SealedTag sealed_tag;
  uint64_t reply_result = 0;  // REPLY: the result its body names
  wire::Envelope env;
  Digest body_digest;  // BodyDigest of the serialized body: what the signature or MACs cover
  Digest vote_digest;  // PREPARE and COMMIT: the digest their body names (see voter)
  // GLOBAL-SHARE built by SealShare: the PRE-PREPARE whose batch it carries, in place of the
  // envelope's (empty) batch field. Why: a certificate is kept four windows for repairs by every
  // replica, and with its own copy of the batch the shares were a third of a GeoBFT run's memory.
  MessagePtr batch_source;
  Digest batch_digest;                  // PRE-PREPARE, GLOBAL-SHARE: SHA-256 of the serialized batch, computed once
  std::vector<Digest> request_digests;  // PRE-PREPARE: each request's body digest, in batch order

  // Memo of CheckEmbeddedSignatures, whose answer depends on the message's bytes alone (the run's
  // keys are fixed): the first receiver checks, the others reuse its answer and are charged the
  // same work. A certificate relayed to hundreds of replicas is hashed and verified once.
  struct Memo {
    int8_t embedded_valid = -1;  // -1: not checked yet
    OpCounts embedded_cost;
    // GLOBAL-SHARE: distinct members of its cluster whose COMMITs it carries, -1 when malformed,
    // -2 when not counted yet (a function of the bytes and the run's fixed topology).
    int32_t certificate_signers = -2;
    // PRE-PREPARE: the first request of its batch not signed by its client (the batch's size when
    // every one is), -1 when not checked yet (see FirstUnsignedRequest).
    int32_t first_unsigned_request = -1;
    // PRE-PREPARE and GLOBAL-SHARE: what every receiver reads of the batch (see BatchRequestIds,
    // BatchReplyTally). Apart, so that the many messages without a batch stay small.
    struct BatchReading {
      std::vector<RequestId> request_ids;
      bool tallied = false;
      ReplyTally tally;
      uint64_t results_position = 0;  // what `results` were worked out for (0: not yet)
      std::vector<uint64_t> results;
      // PRE-PREPARE, while compacted (see CompactBatch): its batch's requests as serialized, and
      // the mode its request digests are taken in. The requests and their digests are gone
      // meanwhile (ids, results and tally stay: late executors read those); whatever reads the
      // requests puts them back first.
      bool compacted = false;
      CryptoMode mode = CryptoMode::kFast;
      std::string compacted_requests;
    };
    std::unique_ptr<BatchReading> batch;
    Memo() = default;
    // A copy is another message (tests and Byzantine behaviours alter copies): it starts unchecked.
    Memo(const Memo&) {}
    Memo& operator=(const Memo&) { return *this = Memo(); }
    Memo& operator=(Memo&&) = default;
  };
  mutable Memo memo;
  // An unsealed REPLY: the keys SealedEnvelope seals it with (last: only ever written with it).
  // They must outlive the reply, as the simulator's key ring outlives every message of its run.
  const KeyRing* reply_keys = nullptr;
};

// (Defined here: they reach into the message's owner count.)
inline MessagePtr::MessagePtr(const MessagePtr& o) noexcept : p_(o.p_) {
  if (p_ != nullptr) ++p_->refs.n;
}
// Frees a message nobody owns any more, or keeps a reply (request) for the next SealReply
// (MakeRequestMessage).
void ReleaseMessage(const Message* m) noexcept;
inline MessagePtr::~MessagePtr() {
  if (p_ != nullptr && --p_->refs.n == 0) ReleaseMessage(p_);
}
inline MessagePtr MessagePtr::Adopt(const Message* m) noexcept {
  MessagePtr p;
  p.p_ = m;
  // Nobody owns it: its count is set, not incremented, so that a pooled reply's first line (cold
  // by the time it is taken again) is written without being read first.
  if (m != nullptr) m->refs.n = 1;
  return p;
}

// A new message, filled in through `m` before it is shared through `ptr`.
struct NewMessage {
  MessagePtr ptr;
  Message* m;
};
inline NewMessage MakeMessage() {
  auto* m = new Message();
  return {MessagePtr::Adopt(m), m};
}
// A new REQUEST, its envelope's body an empty wire::Request, filled in through `m` and then sealed
// (Seal). It may be a message whose last owner let go, kept for this: see ReleaseMessage.
NewMessage MakeRequestMessage();
// A new message for SealReply to fill in as a REPLY: one let go of (see ReleaseMessage), its
// storage kept, or a new one. Every field a reply carries is set again by SealReply.
NewMessage MakeReplyMessage();

// The envelope of `m` with its body digest and tag, as Seal makes them: a lazily sealed REPLY's
// are written first (see Message::reply_unsealed), a compacted PRE-PREPARE's batch is put back
// (see CompactBatch). What reads a message beyond its header and could be given a reply or a kept
// proposal reads it through this.
const wire::Envelope& SealedEnvelope(const Message& m);

inline NewMessage MakeMessage(const Message& copy) {
  SealedEnvelope(copy);  // a copy is altered as a whole message: it starts sealed
  auto* m = new Message(copy);
  return {MessagePtr::Adopt(m), m};
}

// How a message is authenticated.
struct Auth {
  enum class Kind { kSignature, kMacTo, kMacGroup };
  Kind kind = Kind::kSignature;
  NodeId to = 0;                               // kMacTo
  const std::vector<NodeId>* group = nullptr;  // kMacGroup: one tag per member, in member order
  static Auth Signature() { return {}; }
  static Auth MacTo(NodeId to) { return {Kind::kMacTo, to, nullptr}; }
  static Auth MacGroup(const std::vector<NodeId>* g) { return {Kind::kMacGroup, 0, g}; }
};

// The batch a PRE-PREPARE or GLOBAL-SHARE carries; null for other messages.
const wire::Batch* CarriedBatch(const Message& m);
// The same, for what it holds besides its requests (proposer view, evidence, proofs, complaints):
// without them when they are compacted (see CompactBatch), as reading them does not need them.
const wire::Batch* CarriedBatchHead(const Message& m);

// Keeps the batch a PRE-PREPARE (or the PRE-PREPARE a GLOBAL-SHARE was made from) carries in a
// compact form: its requests as their serialized bytes (about a hundred per request, where the
// protobuf objects and their request digests took nearly three times that), put back as they were
// the first time anything reads them (CarriedBatch, SealedEnvelope; `mode` is what their digests
// are taken in). The request ids, results and reply tally stay: a lagging replica executes from
// them without putting the requests back. For certificates kept for repairs only: a GeoBFT
// replica keeps four windows of rounds, most of a run's peak memory, and each fresh page of it
// cost a kernel fault. Nothing a reader sees changes: the bytes, sizes and digests are the same.
void CompactBatch(const Message& m, CryptoMode mode);
// Puts back the batch `m` carries (itself a PRE-PREPARE, or a GLOBAL-SHARE's source) if it is
// compacted; what CarriedBatch and SealedEnvelope do first.
void RestoreCompactedBatch(const Message& m);

// The requests of the batch a PRE-PREPARE or GLOBAL-SHARE carries, in batch order; empty for other
// messages. Read from the envelope once per message and shared: every replica executes every
// request of every batch, and reading them from the protobuf chases two pointers per request.
const std::vector<RequestId>& BatchRequestIds(const Message& m);
// ExecutionResult of each request of the batch a PRE-PREPARE or GLOBAL-SHARE carries (in batch
// order) when it executes at `position`: worked out once per message and position and shared, as
// every replica executes every batch at the same position (the local layer of its cluster too).
const std::vector<uint64_t>& BatchResults(const Message& m, uint64_t position);
// The reply reports of the batch a PRE-PREPARE or GLOBAL-SHARE carries, counted once per message
// and shared: every replica scores every batch, and each report is a string in a request.
const ReplyTally& BatchReplyTally(const Message& m);

// Seals `env` (whose body is set) as `id`: serializes the body once, digests it, authenticates it
// and computes the wire size. `ops` is charged for the work.
MessagePtr Seal(wire::Envelope env, const Identity& id, Auth auth, OpCounts& ops);

// Seals a message whose envelope was built in place (MakeMessage, then its `m->env`): the same as
// Seal, without moving an envelope in (the move and the emptied envelope's teardown were 3% of a
// default run, whose messages are mostly replies built this way).
MessagePtr Seal(NewMessage built, const Identity& id, Auth auth, OpCounts& ops);

// A Reply body as protobuf serializes it (fields in order, zeros omitted, varints), written to
// `out` (kMaxReplyBody bytes at least); returns its length.
inline constexpr size_t kMaxReplyBody = 5 * 11;
size_t WriteReplyBody(uint64_t view, NodeId client, uint64_t timestamp, NodeId replica, uint64_t result, uint8_t* out);

// A REPLY from `id` to `client`, MAC'd to it: what PBFT and GeoBFT replicas answer. The same
// message Seal makes of that envelope, built without the generic serializer.
MessagePtr SealReply(uint64_t view, NodeId client, uint64_t timestamp, uint64_t result, const Identity& id,
                     OpCounts& ops);

// Seals (signed) a GLOBAL-SHARE whose batch is that of the PRE-PREPARE `source`: `env` carries
// everything else. Sealed exactly as if the batch were copied in (same bytes hashed and sized, same
// digests, same wire size), but the message keeps `source` instead of a copy (CarriedBatch reads
// it there; EncodeMessage writes it in).
MessagePtr SealShare(wire::Envelope env, const MessagePtr& source, const Identity& id, OpCounts& ops);

// Seals a PRE-PREPARE whose batch is made of the given request messages (each sealed by its
// client). Request digests are reused, not recomputed.
// `extras` (reputation) supplies the batch's proposer_view and evidence. `sign_header`
// (reputation's defence): the leader also signs the proposal's header (view, seq, digest), the
// small, transferable statement that makes an equivocation provable.
// A client's request carried in a batch, as the client's message again (its signature covers the
// request body, whose digest the batch's receiver computed): to forward what a dropped proposal held.
MessagePtr UnpackRequest(const wire::SignedRequest& r, const Digest& body_digest);
MessagePtr SealPrePrepare(uint64_t view, uint64_t seq, const std::vector<MessagePtr>& requests, const Identity& id,
                          const std::vector<NodeId>* group, OpCounts& ops, wire::Batch* extras = nullptr,
                          bool sign_header = false);
// What a leader signs of a proposal: SHA-256 of the serialized ProposalHeader.
Digest ProposalHeaderDigest(uint64_t view, uint64_t seq, const Digest& digest, NodeId leader);
// Whether `signature` is `leader`'s over that header (charged one verify and the header's hash).
bool CheckProposalHeader(uint64_t view, uint64_t seq, const Digest& digest, NodeId leader, std::string_view signature,
                         const Identity& self, OpCounts& ops);

// An authenticator's bytes (Envelope.macs, packed words: in memory, on a little-endian host, the
// bytes the wire carries).
static_assert(std::endian::native == std::endian::little, "Envelope.macs is read as bytes");
inline std::string_view MacBytes(const wire::Envelope& env) {
  return {reinterpret_cast<const char*>(env.macs().data()), env.macs().size() * sizeof(uint64_t)};
}
// Makes the authenticator `bytes` long (a multiple of 8; bytes added are zero, those kept keep
// their value) and returns its bytes, to write tags in place.
inline char* ResizeMacs(wire::Envelope& env, size_t bytes) {
  env.mutable_macs()->Resize(static_cast<int>(bytes / sizeof(uint64_t)), 0);
  return reinterpret_cast<char*>(env.mutable_macs()->mutable_data());
}
// A batched request's signature bytes (SignedRequest.signature, packed words as Envelope.macs).
inline std::string_view SignatureOf(const wire::SignedRequest& r) {
  return {reinterpret_cast<const char*>(r.signature().data()), r.signature().size() * sizeof(uint64_t)};
}
// Sets it to `bytes` (whose length is a multiple of 8; a signature is 64 bytes; anything else is
// padded with zeros, which no signature check accepts).
void SetSignature(wire::SignedRequest& r, std::string_view bytes);

// An authenticator's tags: how many, and the one at a group position.
inline uint32_t MacCount(const wire::Envelope& env) { return static_cast<uint32_t>(MacBytes(env).size() / kMacSize); }
inline std::string_view MacAt(const wire::Envelope& env, uint32_t index) {
  return MacBytes(env).substr(size_t{index} * kMacSize, kMacSize);
}

// Checks the authentication of `m` as received by `self` (whose position in its group is
// `self_index`, for authenticators). Charges `ops`.
bool CheckAuth(const Message& m, const Identity& self, uint32_t self_index, OpCounts& ops);

// Checks the signature of an envelope embedded in a certificate (a CHECKPOINT in a proof, a
// VIEW-CHANGE in a NEW-VIEW): it must be signed by `signer`. Charges `ops` for hashing and verifying.
bool CheckEmbeddedSignature(const wire::Envelope& env, NodeId signer, const Identity& self, OpCounts& ops);

// Checks that every signed envelope embedded in `m` (a GLOBAL-SHARE's COMMITs, the COMMITs of a
// PRE-PREPARE's vote evidence) is signed by its own sender. Charges `ops` for hashing and verifying
// all of them, memoised in the message for its other receivers.
// `known`: how many of the embedded signatures this receiver verified already, on the very same
// signed messages received directly (it compares bytes instead of verifying again); not charged.
bool CheckEmbeddedSignatures(const Message& m, const Identity& self, OpCounts& ops, uint32_t known = 0);

// The first request of a PRE-PREPARE's batch whose signature is not its client's over the
// request's digest (request_digests), or the batch's size when every one is. Checked once for all
// receivers (a function of the bytes and the run's fixed keys); each receiver is still charged a
// verify per request it looks at.
uint32_t FirstUnsignedRequest(const Message& m, const Identity& self);

// Parses bytes received from the wire into a sealed message: the path a Byzantine peer's garbage
// takes. Rejects anything malformed; never aborts. `mode`: the run's crypto mode, which decides
// the body digests its tags cover (BodyDigest).
absl::StatusOr<MessagePtr> DecodeMessage(std::string_view bytes, CryptoMode mode);

// Serializes a sealed message as it travels on the wire.
std::string EncodeMessage(const Message& m);

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_MESSAGE_H_
