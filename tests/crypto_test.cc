#include "protocol/crypto.h"

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

TEST(Message, SealedMessagesRoundTripThroughTheWire) {
  KeyRing keys(1, CryptoMode::kFast);
  Identity id(&keys, 2);
  OpCounts ops;
  wire::Envelope env;
  env.mutable_prepare()->set_view(1);
  env.mutable_prepare()->set_seq(7);
  env.mutable_prepare()->set_replica(2);
  std::vector<NodeId> group = {0, 1, 2, 3};
  MessagePtr m = Seal(env, id, Auth::MacGroup(&group), ops);
  EXPECT_EQ(ops.macs, 3u);  // one per other member
  auto decoded = DecodeMessage(EncodeMessage(*m));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ((*decoded)->body_digest, m->body_digest);
  EXPECT_EQ((*decoded)->wire_size, m->wire_size);
  OpCounts check;
  EXPECT_TRUE(CheckAuth(**decoded, Identity(&keys, 1), 1, check));
  EXPECT_FALSE(CheckAuth(**decoded, Identity(&keys, 3), 1, check));  // wrong slot for replica 3
}

TEST(Message, GarbageIsRejectedNotFatal) {
  for (std::string bytes : {std::string("\xff\xff\xff", 3), std::string(), std::string("\x0a\x00", 2)}) {
    EXPECT_FALSE(DecodeMessage(bytes).ok());
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
  EXPECT_EQ(EncodeMessage(*pp), pp_bytes);  // the proposal is as it was
  OpCounts check;
  EXPECT_TRUE(CheckAuth(*share, Identity(&keys, 5), 0, check));
  auto decoded = DecodeMessage(EncodeMessage(*share));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ((*decoded)->body_digest, share->body_digest);
  EXPECT_EQ((*decoded)->batch_digest, share->batch_digest);
}

}  // namespace
}  // namespace geopbft
