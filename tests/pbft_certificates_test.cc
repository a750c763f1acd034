// Validation of the certificates PBFT's fault handling relies on: checkpoint proofs, VIEW-CHANGE
// messages, and the NEW-VIEW selection rule. Forged or inconsistent certificates must be rejected.
#include "protocol/pbft_certificates.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geopbft {
namespace {

using ::testing::HasSubstr;

class Certificates : public ::testing::Test {
 protected:
  wire::Envelope Checkpoint(NodeId signer, uint64_t seq, const Digest& d, NodeId claimed = UINT32_MAX) {
    wire::Envelope env;
    env.mutable_checkpoint()->set_seq(seq);
    env.mutable_checkpoint()->set_state_digest(std::string(d.view()));
    env.mutable_checkpoint()->set_replica(claimed == UINT32_MAX ? signer : claimed);
    OpCounts ops;
    MessagePtr m = Seal(env, Identity(&keys, signer), Auth::Signature(), ops);
    wire::Envelope out = m->env;
    if (claimed != UINT32_MAX) out.set_sender(claimed);
    return out;
  }
  google::protobuf::RepeatedPtrField<wire::Envelope> Proof(std::vector<NodeId> signers, uint64_t seq, const Digest& d) {
    google::protobuf::RepeatedPtrField<wire::Envelope> p;
    for (NodeId s : signers) *p.Add() = Checkpoint(s, seq, d);
    return p;
  }
  absl::Status Check(const google::protobuf::RepeatedPtrField<wire::Envelope>& p, uint64_t seq, const Digest& d) {
    OpCounts ops;
    return ValidateCheckpointProof(p, seq, d, group, Identity(&keys, 0), ops);
  }
  static wire::Batch BatchOf(uint64_t ts) {
    wire::Batch b;
    b.add_requests()->mutable_request()->set_timestamp(ts);
    return b;
  }
  // A VIEW-CHANGE for `new_view` from `replica` with prepared claims (seq, view, batch) and the
  // matching pre-prepared claims.
  wire::ViewChange VC(NodeId replica, uint64_t new_view,
                      std::vector<std::tuple<uint64_t, uint64_t, wire::Batch>> prepared) {
    wire::ViewChange vc;
    vc.set_new_view(new_view);
    vc.set_replica(replica);
    for (auto& [seq, view, batch] : prepared) {
      std::string d(BatchDigest(batch).view());
      auto* p = vc.add_prepared();
      p->set_seq(seq);
      p->set_view(view);
      p->set_digest(d);
      *vc.add_batches() = batch;
      auto* q = vc.add_pre_prepared();
      q->set_seq(seq);
      q->set_view(view);
      q->set_digest(d);
    }
    return vc;
  }

  KeyRing keys{1, CryptoMode::kFast};
  std::vector<NodeId> members = {0, 1, 2, 3};
  GroupInfo group{&members, 1, 64, 16};
  Digest state = Sha256("state at 16");
};

TEST_F(Certificates, CheckpointProofNeedsTwoFPlusOneDistinctValidSigners) {
  EXPECT_TRUE(Check(Proof({0, 1, 2}, 16, state), 16, state).ok());
  EXPECT_THAT(std::string(Check(Proof({0, 1}, 16, state), 16, state).message()), HasSubstr("needs 3"));
  EXPECT_THAT(std::string(Check(Proof({0, 1, 1}, 16, state), 16, state).message()), HasSubstr("twice"));
  // Signed by replica 3 but claiming to be replica 2: the signature does not verify.
  auto forged = Proof({0, 1}, 16, state);
  *forged.Add() = Checkpoint(3, 16, state, /*claimed=*/2);
  EXPECT_THAT(std::string(Check(forged, 16, state).message()), HasSubstr("bad signature"));
  // A checkpoint of another state or sequence number mixed in.
  auto mixed = Proof({0, 1}, 16, state);
  *mixed.Add() = Checkpoint(2, 16, Sha256("another state"));
  EXPECT_FALSE(Check(mixed, 16, state).ok());
  EXPECT_FALSE(Check(Proof({0, 1, 2}, 16, state), 32, state).ok());
  // A signer outside the group.
  auto outsider = Proof({0, 1}, 16, state);
  *outsider.Add() = Checkpoint(9, 16, state);
  EXPECT_THAT(std::string(Check(outsider, 16, state).message()), HasSubstr("non-member"));
}

TEST_F(Certificates, ViewChangeValidation) {
  OpCounts ops;
  Identity me(&keys, 0);
  wire::ViewChange good = VC(2, 1, {{3, 0, BatchOf(1)}});
  EXPECT_TRUE(ValidateViewChange(good, 2, 1, group, me, ops).ok());
  EXPECT_FALSE(ValidateViewChange(good, 3, 1, group, me, ops).ok());  // sender is not the replica named
  EXPECT_FALSE(ValidateViewChange(good, 2, 2, group, me, ops).ok());  // for another view

  wire::ViewChange wrong_batch = good;
  *wrong_batch.mutable_batches(0) = BatchOf(99);  // batch does not hash to the claimed digest
  EXPECT_THAT(std::string(ValidateViewChange(wrong_batch, 2, 1, group, me, ops).message()),
              HasSubstr("does not match"));

  wire::ViewChange outside = VC(2, 1, {{100, 0, BatchOf(1)}});  // above stable + window
  EXPECT_FALSE(ValidateViewChange(outside, 2, 1, group, me, ops).ok());

  wire::ViewChange future = VC(2, 1, {{3, 1, BatchOf(1)}});  // prepared in the view being changed to
  EXPECT_FALSE(ValidateViewChange(future, 2, 1, group, me, ops).ok());

  wire::ViewChange with_checkpoint = VC(2, 1, {{20, 0, BatchOf(1)}});
  with_checkpoint.set_stable_seq(16);
  with_checkpoint.set_stable_digest(std::string(state.view()));
  *with_checkpoint.mutable_checkpoint_proof() = Proof({0, 1, 2}, 16, state);
  EXPECT_TRUE(ValidateViewChange(with_checkpoint, 2, 1, group, me, ops).ok());
  *with_checkpoint.mutable_checkpoint_proof() = Proof({0, 1}, 16, state);
  EXPECT_FALSE(ValidateViewChange(with_checkpoint, 2, 1, group, me, ops).ok());
}

TEST_F(Certificates, SelectionReproposesWhatMayHaveCommitted) {
  // Replicas 0 and 1 prepared batch A at seq 1 in view 0; replica 2 saw nothing. A may have
  // committed (0, 1 and the failed primary), so the new view must carry it.
  wire::Batch a = BatchOf(1);
  wire::ViewChange v0 = VC(0, 1, {{1, 0, a}}), v1 = VC(1, 1, {{1, 0, a}}), v2 = VC(2, 1, {});
  absl::StatusOr<NewViewPlan> plan = SelectProposals({&v0, &v1, &v2}, 4, 1);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->proposals.size(), 1u);
  EXPECT_EQ(plan->proposals[0].seq, 1u);
  EXPECT_EQ(plan->proposals[0].digest, BatchDigest(a));
  ASSERT_NE(plan->proposals[0].batch, nullptr);
}

TEST_F(Certificates, SelectionFillsGapsWithNullRequests) {
  // Seq 2 prepared somewhere, seq 1 nowhere: seq 1 becomes a null request.
  wire::Batch b = BatchOf(2);
  wire::ViewChange v0 = VC(0, 1, {{2, 0, b}}), v1 = VC(1, 1, {{2, 0, b}}), v2 = VC(2, 1, {});
  absl::StatusOr<NewViewPlan> plan = SelectProposals({&v0, &v1, &v2}, 4, 1);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->proposals.size(), 2u);
  EXPECT_EQ(plan->proposals[0].batch, nullptr);
  EXPECT_EQ(plan->proposals[0].digest, BatchDigest(wire::Batch()));
  EXPECT_EQ(plan->proposals[1].digest, BatchDigest(b));
}

TEST_F(Certificates, ALoneLieIsNotReproposed) {
  // A Byzantine replica claims it prepared a batch nobody else pre-prepared: A2 (f+1 pre-prepared
  // claims) fails, and 2f+1 replicas without a prepared claim make it a null request.
  wire::Batch lie = BatchOf(66);
  wire::ViewChange liar = VC(3, 1, {{1, 0, lie}}), v0 = VC(0, 1, {}), v1 = VC(1, 1, {}), v2 = VC(2, 1, {});
  absl::StatusOr<NewViewPlan> plan = SelectProposals({&liar, &v0, &v1, &v2}, 4, 1);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->proposals.size(), 1u);
  EXPECT_EQ(plan->proposals[0].batch, nullptr);
}

TEST_F(Certificates, TheLaterViewWins) {
  // Seq 1 prepared with A in view 0 at replica 0, then re-proposed and prepared with B in view 1 at
  // replicas 1 and 2: B is the one that may have committed.
  wire::Batch a = BatchOf(1), b = BatchOf(2);
  wire::ViewChange v0 = VC(0, 2, {{1, 0, a}}), v1 = VC(1, 2, {{1, 1, b}}), v2 = VC(2, 2, {{1, 1, b}});
  absl::StatusOr<NewViewPlan> plan = SelectProposals({&v0, &v1, &v2}, 4, 1);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->proposals[0].digest, BatchDigest(b));
}

TEST_F(Certificates, UndecidedUntilEnoughViewChanges) {
  // One prepared claim without f+1 pre-prepared support, and only 2f+1 messages of which one has
  // the claim: neither A1+A2 nor the null rule holds. Wait for more.
  wire::Batch a = BatchOf(1);
  wire::ViewChange v0 = VC(0, 1, {{1, 0, a}}), v1 = VC(1, 1, {}), v2 = VC(2, 1, {});
  absl::StatusOr<NewViewPlan> plan = SelectProposals({&v0, &v1, &v2}, 4, 1);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(SelectProposals({&v0, &v1}, 4, 1).ok());  // fewer than a quorum
}

TEST_F(Certificates, StableCheckpointIsTheHighestProven) {
  wire::ViewChange v0 = VC(0, 1, {}), v1 = VC(1, 1, {}), v2 = VC(2, 1, {});
  v1.set_stable_seq(16);
  v1.set_stable_digest(std::string(state.view()));
  absl::StatusOr<NewViewPlan> plan = SelectProposals({&v0, &v1, &v2}, 4, 1);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->checkpoint_seq, 16u);
  EXPECT_EQ(plan->checkpoint_digest, state);
  EXPECT_TRUE(plan->proposals.empty());
}

}  // namespace
}  // namespace geopbft
