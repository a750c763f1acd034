// The original implementation's reputation rule (Lihuatx/ReputationPBFT, Go module My_PBFT,
// pbft/network/node.go), kept as a scoring preset beside this project's own rule (DESIGN §4).
//
// Integer scores start at 400, are capped at 1000, and a committee member needs 200. Each COMMIT a
// primary receives adds f to its sender's activity and 1 to every voter it lists as evidence. After
// each local commit the primary updates every committee member:
//   inactive (no activity this round): -10 - (10 + 30 (1 - h)) + floor(4 h)
//   active:                            floor(4 active / (C - 1)) + 4 + floor(4 h)
//   the primary itself:                mean gain of the active members + 2
// where h in [-1, 1] is the mean of the member's history of +1 (active) / -1 (inactive) outcomes and
// C the committee size. Only inactivity is punished (there is no vote-against penalty).
// Published behaviour: honest replicas climb 400 -> 1000 by about round 52; a replica that turns
// silent at round 50 falls about 28 per round, to about 185 by round 76.
#ifndef GEOPBFT_PROTOCOL_MY_PBFT_SCORES_H_
#define GEOPBFT_PROTOCOL_MY_PBFT_SCORES_H_

#include <cstdint>
#include <vector>

namespace geopbft {

class MyPbftScores {
 public:
  static constexpr int kInitial = 400;
  static constexpr int kCap = 1000;
  static constexpr int kThreshold = 200;

  MyPbftScores(uint32_t replicas, uint32_t f);

  // A COMMIT from `sender` listing `voters` (its evidence) reached the primary this round.
  void OnCommit(uint32_t sender, const std::vector<uint32_t>& voters);
  // The round's local commit: apply the update to the committee, then start a new round.
  void EndRound(const std::vector<uint32_t>& committee, uint32_t primary);

  int score(uint32_t r) const { return scores_[r]; }
  bool eligible(uint32_t r) const { return scores_[r] >= kThreshold; }
  double history_mean(uint32_t r) const;
  // Whole state of one replica's entry (global-layer snapshots).
  struct Entry {
    int score, activity, outcomes_sum, outcomes_n;
  };
  Entry entry(uint32_t r) const { return {scores_[r], activity_[r], outcomes_sum_[r], outcomes_n_[r]}; }
  void set_entry(uint32_t r, const Entry& e) {
    scores_[r] = e.score, activity_[r] = e.activity, outcomes_sum_[r] = e.outcomes_sum, outcomes_n_[r] = e.outcomes_n;
  }

 private:
  uint32_t f_;
  std::vector<int> scores_;
  std::vector<int> activity_;
  std::vector<int> outcomes_sum_;  // sum of +1 / -1 outcomes
  std::vector<int> outcomes_n_;
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_MY_PBFT_SCORES_H_
