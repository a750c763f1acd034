// The score arithmetic of the default rule, by hand: what each kind of evidence does to a score,
// how committees are chosen, and why lying evidence cannot frame a replica.
#include "gtest/gtest.h"
#include "protocol/message.h"
#include "protocol/reputation.h"

namespace geopbft {
namespace {

// One cluster of four replicas (ids 0..3, f = 1), everyone on the committee, replica 0 leads view 0.
class ScoresTest : public ::testing::Test {
 protected:
  ScoresTest() : book_(Params(), {{0, 1, 2, 3}}, {1}), roles_(RoleEpoch::Of(1, {0, 1, 2, 3}, 0)) {}

  static ReputationParams Params() {
    ReputationParams p;  // the documented defaults
    p.initial = 50;
    return p;
  }

  // A COMMIT of `sender` for seq 1 (digest "a" unless `against`) listing the PREPAREs of `saw`.
  static wire::Envelope Commit(NodeId sender, std::vector<uint32_t> saw, bool against = false) {
    wire::Envelope e;
    e.set_sender(sender);
    wire::Commit* c = e.mutable_commit();
    c->set_view(0);
    c->set_seq(1);
    c->set_digest(against ? "b" : "a");
    c->set_replica(sender);
    std::string bitmap(1, '\0');
    for (uint32_t i : saw) bitmap[0] = static_cast<char>(bitmap[0] | (1 << i));
    c->set_prepare_evidence(bitmap);
    return e;
  }
  static wire::VoteEvidence Evidence(uint64_t seq, std::vector<wire::Envelope> commits) {
    wire::VoteEvidence ev;
    ev.set_seq(seq);
    ev.set_view(0);
    ev.set_digest("a");
    for (auto& c : commits) *ev.add_commits() = c;
    return ev;
  }
  // Everyone votes (0 leads: it sends no PREPARE, so nobody lists it).
  static wire::VoteEvidence AllVote(uint64_t seq) {
    return Evidence(seq, {Commit(0, {1, 2, 3}), Commit(1, {1, 2, 3}), Commit(2, {1, 2, 3}), Commit(3, {1, 2, 3})});
  }
  // Replica 3 silent: no COMMIT from it, nobody saw its PREPARE.
  static wire::VoteEvidence ThreeSilent(uint64_t seq) {
    return Evidence(seq, {Commit(0, {1, 2}), Commit(1, {1, 2}), Commit(2, {1, 2})});
  }
  double Consensus(uint32_t i) const { return book_.Peer(0, i).consensus; }

  ScoreBook book_;
  RoleEpoch roles_;
};

TEST_F(ScoresTest, AgreementEarnsTheReward) {
  book_.ApplyVotes(0, AllVote(1), roles_);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(Consensus(i), 52);  // 50 + agree_reward 2
  // Score = 0.5 x consensus + 0.5 x transaction (still 50).
  EXPECT_DOUBLE_EQ(book_.Score(0, 1), 51);
}

TEST_F(ScoresTest, IsolatedMissesAreForgivenStreaksCostMore) {
  book_.ApplyVotes(0, ThreeSilent(1), roles_);
  EXPECT_DOUBLE_EQ(Consensus(3), 50);  // the first miss of a streak is forgiven
  // Second consecutive miss: (2 - 1) x miss_penalty 1, softened by the record. The record was 1
  // and decayed to 0.95 at the first miss: penalty 1 x (1 - 0.5 x 0.95) = 0.525.
  book_.ApplyVotes(0, ThreeSilent(2), roles_);
  EXPECT_NEAR(Consensus(3), 50 - 0.525, 1e-12);
  // Third: 2 x (1 - 0.5 x 0.9025).
  book_.ApplyVotes(0, ThreeSilent(3), roles_);
  EXPECT_NEAR(Consensus(3), 50 - 0.525 - 2 * (1 - 0.5 * 0.9025), 1e-12);
  // A vote ends the streak: the next miss is forgiven again.
  book_.ApplyVotes(0, AllVote(4), roles_);
  double after_vote = Consensus(3);
  book_.ApplyVotes(0, ThreeSilent(5), roles_);
  EXPECT_DOUBLE_EQ(Consensus(3), after_vote);
}

TEST_F(ScoresTest, AVoteAgainstTheMajorityCostsTheLargePenalty) {
  wire::VoteEvidence ev = Evidence(1, {Commit(0, {1, 2}), Commit(1, {1, 2}), Commit(2, {1, 2}), Commit(3, {}, true)});
  std::vector<VoteOutcome> outcome = book_.Judge(0, ev, roles_);
  EXPECT_EQ(outcome[3], VoteOutcome::kAgainst);
  EXPECT_EQ(outcome[1], VoteOutcome::kAgree);
  book_.ApplyVotes(0, ev, roles_);
  EXPECT_DOUBLE_EQ(Consensus(3), 50 - 25);  // against_penalty
  EXPECT_DOUBLE_EQ(book_.Peer(0, 3).record, 0.5);
}

TEST_F(ScoresTest, EvidenceIsCountedOncePerSequenceNumber) {
  wire::Batch batch;
  *batch.add_evidence() = AllVote(1);
  book_.ApplyBatch(0, 1, batch, [&](uint64_t) -> const RoleEpoch& { return roles_; });
  book_.ApplyBatch(0, 2, batch, [&](uint64_t) -> const RoleEpoch& { return roles_; });  // replayed
  EXPECT_DOUBLE_EQ(Consensus(1), 52);
}

TEST_F(ScoresTest, LyingEvidenceCannotFrameNorShield) {
  // Replica 1 lies: it claims nobody's PREPARE (framing) and its COMMIT is the only one to list the
  // silent replica 3 (shielding). A vote counts as seen when f+1 = 2 COMMITs list it.
  wire::VoteEvidence ev = Evidence(1, {Commit(0, {2}), Commit(1, {3}), Commit(2, {2})});
  std::vector<VoteOutcome> outcome = book_.Judge(0, ev, roles_);
  EXPECT_EQ(outcome[2], VoteOutcome::kAgree);  // its own COMMIT is there, and two saw its PREPARE
  EXPECT_EQ(outcome[3], VoteOutcome::kMiss);   // one lister is not enough
  // Without its COMMIT in the evidence, replica 2 still counts through the two COMMITs listing it.
  wire::VoteEvidence no_commit = Evidence(2, {Commit(0, {2}), Commit(1, {}), Commit(3, {2})});
  EXPECT_EQ(book_.Judge(0, no_commit, roles_)[2], VoteOutcome::kAgree);
}

TEST_F(ScoresTest, ListenersAreNeitherRewardedNorPunished) {
  RoleEpoch three = RoleEpoch::Of(1, {0, 1, 2}, 0);  // replica 3 listens
  book_.ApplyVotes(0, ThreeSilent(1), three);
  book_.ApplyVotes(0, ThreeSilent(2), three);
  EXPECT_DOUBLE_EQ(Consensus(3), 50);
  EXPECT_DOUBLE_EQ(Consensus(1), 54);
}

TEST_F(ScoresTest, AReplacedLeaderIsPenalisedFromTheViewJump) {
  wire::Batch batch;
  batch.set_proposer_view(1);  // the first proposal of view 1: view 0's leader (0) was replaced
  book_.ApplyBatch(0, 5, batch, [&](uint64_t) -> const RoleEpoch& { return roles_; });
  EXPECT_DOUBLE_EQ(Consensus(0), 50 - 20);  // view_change_penalty
  EXPECT_DOUBLE_EQ(Consensus(1), 50);
  book_.ApplyBatch(0, 6, batch, [&](uint64_t) -> const RoleEpoch& { return roles_; });  // same view
  EXPECT_DOUBLE_EQ(Consensus(0), 30);
}

TEST(ScoreBook, CommitteeIsTheBestScoredThenIncumbentThenIndex) {
  ReputationParams p;
  ScoreBook book(p, {{10, 11, 12, 13, 14, 15}}, {1});  // 6 replicas, committee of 4
  EXPECT_EQ(book.Committee(0), (std::vector<uint32_t>{0, 1, 2, 3}));
  EXPECT_EQ(book.Committee(0, 2), (std::vector<uint32_t>{2, 0, 1, 3}));  // equals: the incumbent leads
  // Replica 1 votes against twice: below the eviction threshold (30) its seat goes to replica 4.
  auto ev = [](uint64_t seq) {
    wire::VoteEvidence e;
    e.set_seq(seq);
    e.set_digest("a");
    for (NodeId s : {10u, 11u, 12u, 13u}) {
      wire::Envelope* c = e.add_commits();
      c->set_sender(s);
      c->mutable_commit()->set_seq(seq);
      c->mutable_commit()->set_replica(s);
      c->mutable_commit()->set_digest(s == 11 ? "b" : "a");
    }
    return e;
  };
  RoleEpoch roles = RoleEpoch::Of(1, {0, 1, 2, 3}, 0);
  book.ApplyVotes(0, ev(1), roles);
  book.ApplyVotes(0, ev(2), roles);
  EXPECT_LT(book.Score(0, 1), p.eviction_threshold);
  EXPECT_EQ(book.Committee(0), (std::vector<uint32_t>{0, 2, 3, 4}));
}

}  // namespace
}  // namespace geopbft
