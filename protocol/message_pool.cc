// Messages whose last owner let go, kept for the next message of their kind (see ReleaseMessage,
// MakeRequestMessage, MakeReplyMessage).
#include "protocol/message.h"

namespace geopbft {

namespace {
// Replies whose last owner let go, kept whole (envelope, body and tag storage) for the next reply.
// Why: replies are two thirds of a GeoBFT run's messages and each lives a LAN latency; building
// and tearing down an envelope with its body and tag (three allocations, the protobuf constructors
// and destructors) cost more than filling one in. A reply is sealed from scratch whatever it held:
// every field it carries is set again (SealReply), so reuse cannot show in any output.
// Requests likewise (MakeRequestMessage): a closed-loop client lets go of a request when it accepts
// its reply and builds the next at once, and tearing the old one down (cold by then: it was built a
// WAN round trip ago) and building the new one from nothing were a twentieth of a default run.
// Per thread, like the allocator's caches (sweep workers are processes), and trivially destructible
// so that reaching it costs no guard: what a thread leaves here at its end is not freed.
struct MessagePool {
  static constexpr uint32_t kMax = 4096;  // replies (requests) let go of and not yet reused are a few hundred
  Message* free[kMax];
  uint32_t count = 0;
};
thread_local MessagePool reply_pool;
thread_local MessagePool request_pool;
}  // namespace

void ReleaseMessage(const Message* m) noexcept {
  using Kind = Message::PoolMark::Kind;
  MessagePool* pool = m->pooled.kind == Kind::kReply     ? &reply_pool
                      : m->pooled.kind == Kind::kRequest ? &request_pool
                                                         : nullptr;
  if (pool != nullptr && pool->count < MessagePool::kMax) {
    pool->free[pool->count++] = const_cast<Message*>(m);
    return;
  }
  delete m;
}

NewMessage MakeRequestMessage() {
  if (request_pool.count == 0) {
    NewMessage built = MakeMessage();
    built.m->pooled.kind = Message::PoolMark::Kind::kRequest;
    built.m->env.mutable_request();
    return built;
  }
  Message* m = request_pool.free[--request_pool.count];
  // Back to what MakeMessage gives, but for the storage: the envelope keeps its body (emptied; its
  // `answered` string keeps its buffer) and signature string. Only Client::Submit fills these in
  // and only Seal and readers of requests write the rest, so this is everything they can touch.
  m->env.mutable_request()->Clear();
  m->env.clear_sender();
  m->env.clear_signature();
  m->env.clear_macs();
  m->reply_from_sender = false;
  m->reply_unsealed = false;
  m->type = MsgType::BODY_NOT_SET;
  m->sender = 0;
  m->wire_size = 0;
  m->body_bytes = 0;
  m->view = 0;
  m->seq = 0;
  m->payload_bytes = 0;
  m->voter = 0;
  m->reply_client = 0;
  m->sealed_tag = Message::SealedTag();
  m->reply_result = 0;
  m->body_digest = Digest();
  m->vote_digest = Digest();
  m->batch_source = MessagePtr();
  m->batch_digest = Digest();
  m->request_digests.clear();
  m->memo = Message::Memo();
  m->reply_keys = nullptr;
  return {MessagePtr::Adopt(m), m};
}

NewMessage MakeReplyMessage() {
  NewMessage built;
  if (reply_pool.count == 0) {
    built = MakeMessage();
    built.m->pooled.kind = Message::PoolMark::Kind::kReply;
  } else {
    built.m = reply_pool.free[--reply_pool.count];
    built.ptr = MessagePtr::Adopt(built.m);
    // Replies go out in bursts (a batch's, at its execution): fetch the next one's first line,
    // the only one a FAST reply writes, while this one is built.
    if (reply_pool.count > 0) __builtin_prefetch(reply_pool.free[reply_pool.count - 1], 1);
  }
  return built;
}

}  // namespace geopbft
