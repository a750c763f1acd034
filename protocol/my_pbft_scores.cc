#include "protocol/my_pbft_scores.h"

#include <algorithm>
#include <cmath>

namespace geopbft {

MyPbftScores::MyPbftScores(uint32_t replicas, uint32_t f)
    : f_(f),
      scores_(replicas, kInitial),
      activity_(replicas, 0),
      outcomes_sum_(replicas, 0),
      outcomes_n_(replicas, 0) {}

double MyPbftScores::history_mean(uint32_t r) const {
  return outcomes_n_[r] == 0 ? 0.0 : static_cast<double>(outcomes_sum_[r]) / outcomes_n_[r];
}

void MyPbftScores::OnCommit(uint32_t sender, const std::vector<uint32_t>& voters) {
  activity_[sender] += static_cast<int>(f_);
  for (uint32_t v : voters) activity_[v] += 1;
}

void MyPbftScores::EndRound(const std::vector<uint32_t>& committee, uint32_t primary) {
  const double c = static_cast<double>(committee.size());
  int gains = 0, active_members = 0;
  for (uint32_t m : committee) {
    if (m == primary) continue;
    double h = history_mean(m);
    double delta;
    if (activity_[m] == 0) {
      delta = -10 - (10 + 30 * (1 - h)) + std::floor(4 * h);
      outcomes_sum_[m] -= 1;
    } else {
      delta = std::floor(4 * activity_[m] / std::max(1.0, c - 1)) + 4 + std::floor(4 * h);
      outcomes_sum_[m] += 1;
      gains += static_cast<int>(delta);
      ++active_members;
    }
    ++outcomes_n_[m];
    scores_[m] = std::clamp(scores_[m] + static_cast<int>(std::floor(delta)), 0, kCap);
  }
  if (active_members > 0) scores_[primary] = std::clamp(scores_[primary] + gains / active_members + 2, 0, kCap);
  std::fill(activity_.begin(), activity_.end(), 0);
}

}  // namespace geopbft
