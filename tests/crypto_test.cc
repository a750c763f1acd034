#include "protocol/crypto.h"

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"
#include "protocol/message.h"

namespace geopbft {
namespace {

class CryptoModes : public ::testing::TestWithParam<CryptoMode> {};

TEST_P(CryptoModes, SignaturesVerifyOnlyForTheirSigner) {
  KeyRing keys(42, GetParam());
  Digest d = Sha256("batch");
  std::string sig = keys.Sign(3, d);
  EXPECT_EQ(sig.size(), kSignatureSize);
  EXPECT_TRUE(keys.Verify(3, d, sig));
  EXPECT_FALSE(keys.Verify(4, d, sig));                // another principal
  EXPECT_FALSE(keys.Verify(3, Sha256("other"), sig));  // another message
  std::string flipped = sig;
  flipped[5] ^= 1;
  EXPECT_FALSE(keys.Verify(3, d, flipped));
  EXPECT_FALSE(keys.Verify(3, d, sig.substr(1)));
}

TEST_P(CryptoModes, MacsArePairwise) {
  KeyRing keys(42, GetParam());
  Digest d = Sha256("prepare");
  std::string tag = keys.Mac(1, 2, d);
  EXPECT_EQ(tag.size(), kMacSize);
  EXPECT_TRUE(keys.VerifyMac(1, 2, d, tag));
  EXPECT_FALSE(keys.VerifyMac(1, 3, d, tag));
  EXPECT_FALSE(keys.VerifyMac(1, 2, Sha256("commit"), tag));
}

TEST_P(CryptoModes, KeysDependOnTheSeed) {
  KeyRing a(1, GetParam()), b(2, GetParam());
  Digest d = Sha256("x");
  EXPECT_NE(a.Sign(0, d), b.Sign(0, d));
  EXPECT_FALSE(b.Verify(0, d, a.Sign(0, d)));
}

INSTANTIATE_TEST_SUITE_P(Both, CryptoModes, ::testing::Values(CryptoMode::kFast, CryptoMode::kReal));

TEST(Crypto, RealEd25519IsDeterministic) {
  KeyRing a(5, CryptoMode::kReal), b(5, CryptoMode::kReal);
  Digest d = Sha256("same");
  EXPECT_EQ(a.Sign(9, d), b.Sign(9, d));
}

TEST(Crypto, Sha256KnownAnswer) {
  // FIPS 180-2 test vector "abc".
  Digest d = Sha256("abc");
  EXPECT_EQ(d.bytes[0], 0xba);
  EXPECT_EQ(d.bytes[1], 0x78);
  EXPECT_EQ(d.bytes[31], 0xad);
}

// Body digests: SHA-256 in REAL mode, FastDigest in FAST mode; either way any change of the bytes
// (including their length) changes the digest, and each mode's receivers check what its senders
// sealed.
TEST_P(CryptoModes, BodyDigestsFollowTheMode) {
  KeyRing keys(1, GetParam());
  const std::string body = "a reply body of some twenty bytes";
  EXPECT_EQ(keys.BodyDigest(body), GetParam() == CryptoMode::kReal ? Sha256(body) : FastDigest(body));
  EXPECT_NE(FastDigest(body), Sha256(body));
}

TEST(Crypto, FastDigestSeesEveryByteAndTheLength) {
  std::string bytes(100, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  absl::flat_hash_set<std::string> seen;
  for (size_t len = 0; len <= bytes.size(); ++len) {
    const std::string prefix = bytes.substr(0, len);
    EXPECT_TRUE(seen.insert(std::string(FastDigest(prefix).view())).second) << "length " << len;
    EXPECT_EQ(FastDigest(prefix), FastDigest(std::string(prefix)));  // a function of the bytes alone
    for (size_t i = 0; i < len; ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string flipped = prefix;
        flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
        EXPECT_TRUE(seen.insert(std::string(FastDigest(flipped).view())).second) << len << " " << i << " " << bit;
      }
    }
  }
  // Zero bytes appended are a different body too (the tail is padded with zeros internally).
  EXPECT_NE(FastDigest(std::string("x")), FastDigest(std::string("x\0", 2)));
}

TEST_P(CryptoModes, SealedMessagesRoundTripThroughTheWire) {
  KeyRing keys(1, GetParam());
  Identity id(&keys, 2);
  OpCounts ops;
  wire::Envelope env;
  env.mutable_prepare()->set_view(1);
  env.mutable_prepare()->set_seq(7);
  env.mutable_prepare()->set_replica(2);
  std::vector<NodeId> group = {0, 1, 2, 3};
  MessagePtr m = Seal(env, id, Auth::MacGroup(&group), ops);
  EXPECT_EQ(ops.macs, 3u);  // one per other member
  auto decoded = DecodeMessage(EncodeMessage(*m), keys.mode());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ((*decoded)->body_digest, m->body_digest);
  EXPECT_EQ((*decoded)->wire_size, m->wire_size);
  OpCounts check;
  EXPECT_TRUE(CheckAuth(**decoded, Identity(&keys, 1), 1, check));
  EXPECT_FALSE(CheckAuth(**decoded, Identity(&keys, 3), 1, check));  // wrong slot for replica 3
}

// SealReply writes out what Seal works out through protobuf: the same envelope bytes, sizes,
// digest, tag and charged work, for zeros (omitted fields), small and large values, and any
// sender (replica 0 has no sender field). Replies are taken again from a pool once released, so
// each is built over the previous one's storage.
TEST_P(CryptoModes, AReplyIsTheMessageSealWouldMake) {
  KeyRing keys(3, GetParam());
  const uint64_t values[] = {0, 1, 127, 128, 300, uint64_t{1} << 35, UINT64_MAX};
  for (NodeId replica : {0u, 5u, 200u, 70000u}) {
    Identity id(&keys, replica);
    for (uint64_t view : values) {
      for (uint64_t ts : values) {
        for (uint64_t result : {uint64_t{0}, values[5], values[6]}) {
          const NodeId client = static_cast<NodeId>(ts % 100000);
          wire::Envelope env;
          wire::Reply* r = env.mutable_reply();
          r->set_view(view);
          r->set_client(client);
          r->set_timestamp(ts);
          r->set_replica(replica);
          r->set_result(result);
          OpCounts want_ops, got_ops;
          MessagePtr want = Seal(env, id, Auth::MacTo(client), want_ops);
          MessagePtr got = SealReply(view, client, ts, result, id, got_ops);
          ASSERT_EQ(EncodeMessage(*got), EncodeMessage(*want)) << replica << " " << view << " " << ts;
          EXPECT_EQ(got->wire_size, want->wire_size);
          EXPECT_EQ(got->body_bytes, want->body_bytes);
          EXPECT_EQ(got->body_digest, want->body_digest);
          EXPECT_EQ(got->type, want->type);
          EXPECT_EQ(got->sender, want->sender);
          EXPECT_EQ(got->view, want->view);
          EXPECT_EQ(got->seq, want->seq);
          EXPECT_EQ(got->payload_bytes, 0u);
          EXPECT_EQ(got_ops.hashed_bytes, want_ops.hashed_bytes);
          EXPECT_EQ(got_ops.macs, want_ops.macs);
          OpCounts check;
          EXPECT_TRUE(CheckAuth(*got, Identity(&keys, client), 0, check));
          // The header a receiver reads the reply from, as decoding the bytes fills it in.
          auto decoded = DecodeMessage(EncodeMessage(*got), keys.mode());
          ASSERT_TRUE(decoded.ok());
          EXPECT_EQ(got->reply_client, (*decoded)->reply_client);
          EXPECT_EQ(got->reply_result, (*decoded)->reply_result);
          EXPECT_EQ(got->reply_from_sender, (*decoded)->reply_from_sender);
          EXPECT_TRUE(got->reply_from_sender);
          EXPECT_EQ(got->reply_client, client);
          EXPECT_EQ(got->reply_result, result);
        }
      }
    }
  }
}

// A request taken again from the pool (MakeRequestMessage) is the message a new one would be: what
// the previous request held (its reply evidence, signature, sizes, digest) cannot show, whether or
// not the new one carries evidence.
TEST_P(CryptoModes, APooledRequestIsTheMessageANewOneWouldBe) {
  KeyRing keys(10, GetParam());
  const Identity client(&keys, 9);
  auto fill = [](wire::Request* r, uint64_t ts, bool evidence) {
    r->set_client(9);
    r->set_timestamp(ts);
    r->set_payload_size(128);
    if (evidence) {
      r->set_answered_ts(ts - 1);
      r->set_answered(std::string("\x3f\x01", 2));
    }
  };
  const Message* previous = nullptr;
  for (uint64_t ts = 2; ts < 8; ++ts) {
    const bool evidence = ts % 3 == 0;  // with, without, without, with, ...
    OpCounts want_ops, got_ops;
    NewMessage fresh = MakeMessage();
    fill(fresh.m->env.mutable_request(), ts, evidence);
    MessagePtr want = Seal(std::move(fresh), client, Auth::Signature(), want_ops);
    NewMessage built = MakeRequestMessage();
    if (previous != nullptr) EXPECT_EQ(built.m, previous);  // the one let go of just before
    fill(built.m->env.mutable_request(), ts, evidence);
    MessagePtr got = Seal(std::move(built), client, Auth::Signature(), got_ops);
    ASSERT_EQ(EncodeMessage(*got), EncodeMessage(*want)) << ts;
    EXPECT_EQ(got->type, MsgType::kRequest);
    EXPECT_EQ(got->seq, ts);
    EXPECT_EQ(got->wire_size, want->wire_size);
    EXPECT_EQ(got->body_bytes, want->body_bytes);
    EXPECT_EQ(got->body_digest, want->body_digest);
    EXPECT_EQ(got->payload_bytes, want->payload_bytes);
    EXPECT_EQ(got->sealed_tag.receiver, want->sealed_tag.receiver);
    EXPECT_EQ(got_ops.signs, want_ops.signs);
    EXPECT_EQ(got_ops.hashed_bytes, want_ops.hashed_bytes);
    OpCounts check;
    EXPECT_TRUE(CheckAuth(*got, Identity(&keys, 0), 0, check));
    previous = got.get();  // let go of here (the last owner): kept for the next request
  }
}

// A tag Seal made is trusted without being read (Message::SealedTag) only by whom it is for, and
// never in a copy: a copy with its tag or signature altered fails as it would from the wire, and
// the work charged is the same either way.
TEST_P(CryptoModes, OnlyTheReceiverOfASealedTagSkipsReadingIt) {
  KeyRing keys(9, GetParam());
  const Identity replica(&keys, 2), client(&keys, 7), other(&keys, 8);
  OpCounts ops;
  const MessagePtr reply = SealReply(1, 7, 40, 99, replica, ops);
  OpCounts trusted, checked, bad;
  EXPECT_TRUE(CheckAuth(*reply, client, 0, trusted));
  // FAST: its client read the header alone, so the envelope, digest and tag were never written.
  EXPECT_EQ(reply->reply_unsealed, GetParam() == CryptoMode::kFast);
  EXPECT_FALSE(CheckAuth(*reply, other, 0, checked));  // made for 7: fails for 8 (checked for real)
  EXPECT_FALSE(reply->reply_unsealed);                 // (which had to write them)
  NewMessage copy = MakeMessage(*reply);
  EXPECT_EQ(copy.m->sealed_tag.receiver, Message::SealedTag::kNone);
  checked = {};
  EXPECT_TRUE(CheckAuth(*copy.m, client, 0, checked));
  EXPECT_EQ(checked.mac_checks, trusted.mac_checks);
  EXPECT_EQ(checked.checked_bytes, trusted.checked_bytes);
  ResizeMacs(copy.m->env, kMacSize)[3] ^= 1;
  EXPECT_FALSE(CheckAuth(*copy.m, client, 0, bad));

  wire::Envelope env;
  env.mutable_checkpoint()->set_seq(16);
  const MessagePtr signed_msg = Seal(env, replica, Auth::Signature(), ops);
  trusted = {};
  EXPECT_TRUE(CheckAuth(*signed_msg, other, 0, trusted));
  EXPECT_EQ(trusted.verifies, 1u);
  NewMessage forged = MakeMessage(*signed_msg);
  std::string sig = forged.m->env.signature();
  sig[5] ^= 1;
  forged.m->env.set_signature(sig);
  EXPECT_FALSE(CheckAuth(*forged.m, other, 0, bad));
}

// A batched request's signature, held as packed words, travels as the bytes field it replaced:
// tag 2 (length-delimited), length 64, the signature's bytes.
TEST(Message, ABatchedSignatureIsOnTheWireAsBytes) {
  std::string sig(kSignatureSize, '\0');
  for (size_t i = 0; i < sig.size(); ++i) sig[i] = static_cast<char>(i * 37 + 1);
  wire::SignedRequest r;
  SetSignature(r, sig);
  EXPECT_EQ(SignatureOf(r), sig);
  EXPECT_EQ(r.SerializeAsString(), std::string("\x12\x40", 2) + sig);
  wire::SignedRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(std::string("\x12\x40", 2) + sig));
  EXPECT_EQ(SignatureOf(parsed), sig);
}

TEST(Message, GarbageIsRejectedNotFatal) {
  for (std::string bytes : {std::string("\xff\xff\xff", 3), std::string(), std::string("\x0a\x00", 2)}) {
    EXPECT_FALSE(DecodeMessage(bytes, CryptoMode::kFast).ok());
  }
}

// A certificate sealed around its proposal's batch (not a copy) is the message a copy would make:
// the same bytes on the wire, digests, sizes and charged work; receivers read the proposal's
// batch through it, and the proposal keeps its batch.
TEST(Message, AShareBorrowingItsProposalsBatchIsTheShareACopyWouldMake) {
  KeyRing keys(1, CryptoMode::kFast);
  Identity leader(&keys, 0);
  std::vector<MessagePtr> requests;
  for (uint64_t ts = 1; ts <= 5; ++ts) {
    wire::Envelope r;
    r.mutable_request()->set_client(100);
    r.mutable_request()->set_timestamp(ts);
    r.mutable_request()->set_payload_size(128);
    OpCounts ignored;
    requests.push_back(Seal(r, Identity(&keys, 100), Auth::Signature(), ignored));
  }
  std::vector<NodeId> group = {0, 1, 2, 3};
  OpCounts ignored;
  MessagePtr pp = SealPrePrepare(0, 1, requests, leader, &group, ignored);
  const std::string pp_bytes = EncodeMessage(*pp);

  wire::Envelope env;
  wire::GlobalShare* g = env.mutable_global_share();
  g->set_cluster(0);
  g->set_round(1);
  g->set_digest(std::string(pp->batch_digest.view()));
  wire::Envelope copied_env = env;
  *copied_env.mutable_global_share()->mutable_batch() = pp->env.pre_prepare().batch();
  OpCounts copy_ops, share_ops;
  MessagePtr copied = Seal(copied_env, leader, Auth::Signature(), copy_ops);
  MessagePtr share = SealShare(env, pp, leader, share_ops);

  EXPECT_EQ(EncodeMessage(*share), EncodeMessage(*copied));
  EXPECT_EQ(share->wire_size, copied->wire_size);
  EXPECT_EQ(share->body_bytes, copied->body_bytes);
  EXPECT_EQ(share->payload_bytes, copied->payload_bytes);
  EXPECT_EQ(share->payload_bytes, 5u * 128);
  EXPECT_EQ(share->body_digest, copied->body_digest);
  EXPECT_EQ(share->batch_digest, pp->batch_digest);
  EXPECT_EQ(share_ops.hashed_bytes, copy_ops.hashed_bytes);
  EXPECT_EQ(share->env.global_share().batch().requests_size(), 0);  // not copied
  ASSERT_EQ(CarriedBatch(*share), &pp->env.pre_prepare().batch());
  ASSERT_EQ(BatchRequestIds(*share).size(), 5u);
  EXPECT_EQ(BatchRequestIds(*share)[4].timestamp, 5u);
  EXPECT_EQ(&BatchRequestIds(*share), &BatchRequestIds(*pp));  // read once, for both
  EXPECT_EQ(&BatchReplyTally(*share), &BatchReplyTally(*pp));
  // Results worked out once per position, shared, and worked out again for another position.
  for (uint64_t position : {uint64_t{9}, uint64_t{9}, uint64_t{14}}) {
    const std::vector<uint64_t>& results = BatchResults(*share, position);
    EXPECT_EQ(&results, &BatchResults(*pp, position));
    ASSERT_EQ(results.size(), 5u);
    for (size_t i = 0; i < 5; ++i) EXPECT_EQ(results[i], ExecutionResult(position, 100, i + 1)) << position << " " << i;
  }
  EXPECT_EQ(EncodeMessage(*pp), pp_bytes);  // the proposal is as it was
  OpCounts check;
  EXPECT_TRUE(CheckAuth(*share, Identity(&keys, 5), 0, check));
  auto decoded = DecodeMessage(EncodeMessage(*share), keys.mode());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ((*decoded)->body_digest, share->body_digest);
  EXPECT_EQ((*decoded)->batch_digest, share->batch_digest);
}

// A kept proposal compacted (CompactBatch) holds its requests as bytes, and is the message it was
// to every reader: its requests' ids, results and reply reports are still there without putting the
// requests back; what reads the batch itself (CarriedBatch, SealedEnvelope, a share sealed around
// it, a copy) gets it back exactly (the same bytes, request digests, and first unsigned request).
TEST_P(CryptoModes, ACompactedProposalIsTheProposalItWas) {
  KeyRing keys(102, GetParam());
  Identity leader(&keys, 0);
  std::vector<MessagePtr> requests;
  for (uint64_t ts = 1; ts <= 6; ++ts) {
    wire::Envelope r;
    r.mutable_request()->set_client(100 + ts % 2);
    r.mutable_request()->set_timestamp(ts);
    r.mutable_request()->set_payload_size(128);
    if (ts % 3 == 0) {  // reply evidence on some
      r.mutable_request()->set_answered_ts(ts - 1);
      r.mutable_request()->set_answered(std::string("\x2d", 1));
    }
    OpCounts ignored;
    requests.push_back(Seal(r, Identity(&keys, static_cast<NodeId>(100 + ts % 2)), Auth::Signature(), ignored));
  }
  // A request whose signature is not its client's: the batch's first unsigned one.
  NewMessage forged = MakeMessage(*requests[2]);
  forged.m->env.set_signature(std::string(64, 'x'));
  requests.push_back(std::move(forged.ptr));
  std::vector<NodeId> group = {0, 1, 2, 3};
  OpCounts ignored;
  wire::Batch extras;
  extras.set_proposer_view(3);
  MessagePtr pp = SealPrePrepare(0, 1, requests, leader, &group, ignored, &extras, false);
  const std::string bytes = EncodeMessage(*pp);
  const std::vector<Digest> digests = pp->request_digests;
  const std::vector<RequestId> ids = BatchRequestIds(*pp);
  const std::vector<uint64_t> results = BatchResults(*pp, 7);
  const ReplyTally tally = BatchReplyTally(*pp);
  ASSERT_EQ(ids.size(), 7u);
  ASSERT_EQ(tally.reports, 3u);  // (the forged request is a copy of one with evidence)

  wire::Envelope env;
  env.mutable_global_share()->set_round(1);
  OpCounts want_ops;
  const std::string want_share = EncodeMessage(*SealShare(env, pp, leader, want_ops));

  auto compact_and_check_kept = [&] {
    CompactBatch(*pp, GetParam());
    EXPECT_EQ(pp->env.pre_prepare().batch().requests_size(), 0);  // the objects are gone
    EXPECT_TRUE(pp->request_digests.empty());
    const std::vector<RequestId>& kept = BatchRequestIds(*pp);  // read without putting them back
    ASSERT_EQ(kept.size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ(kept[i].client, ids[i].client);
      EXPECT_EQ(kept[i].timestamp, ids[i].timestamp);
    }
    EXPECT_EQ(BatchResults(*pp, 7), results);
    EXPECT_EQ(BatchReplyTally(*pp).reports, tally.reports);
    EXPECT_EQ(BatchReplyTally(*pp).answered, tally.answered);
    EXPECT_EQ(CarriedBatchHead(*pp)->proposer_view(), 3u);
    EXPECT_EQ(pp->env.pre_prepare().batch().requests_size(), 0);  // (still compact)
  };
  compact_and_check_kept();
  EXPECT_EQ(FirstUnsignedRequest(*pp, Identity(&keys, 1)), 6u);  // (its first reading)
  EXPECT_EQ(pp->request_digests, digests);
  EXPECT_EQ(EncodeMessage(*pp), bytes);

  compact_and_check_kept();
  EXPECT_EQ(EncodeMessage(*pp), bytes);
  EXPECT_EQ(pp->request_digests, digests);

  compact_and_check_kept();
  ASSERT_NE(CarriedBatch(*pp), nullptr);
  EXPECT_EQ(CarriedBatch(*pp)->requests_size(), 7);
  EXPECT_EQ(pp->request_digests, digests);

  compact_and_check_kept();
  OpCounts got_ops;
  MessagePtr share = SealShare(env, pp, leader, got_ops);
  EXPECT_EQ(EncodeMessage(*share), want_share);
  EXPECT_EQ(got_ops.hashed_bytes, want_ops.hashed_bytes);

  // Compacted through a share made from it; a copy starts with the whole batch.
  CompactBatch(*share, GetParam());
  EXPECT_EQ(pp->env.pre_prepare().batch().requests_size(), 0);
  NewMessage copy = MakeMessage(*pp);
  EXPECT_EQ(copy.m->env.pre_prepare().batch().requests_size(), 7);
  EXPECT_EQ(copy.m->request_digests, digests);
  EXPECT_EQ(EncodeMessage(*pp), bytes);
}

}  // namespace
}  // namespace geopbft
