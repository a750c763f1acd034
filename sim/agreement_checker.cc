#include "sim/agreement_checker.h"

#include "absl/strings/str_format.h"

namespace geopbft {

void AgreementChecker::OnExecuted(NodeId replica, const Execution& ex, TimeNs now) {
  auto [it, inserted] = executed_.try_emplace(ex.seq);
  Entry& e = it->second;
  if (inserted) {
    e.digest = ex.digest;
    e.first_replica = replica;
  } else if (e.digest != ex.digest) {
    if (violations_ == 0) {
      first_violation_ =
          absl::StrFormat("at %.6f s replica %d executed batch %016x at sequence %d, but replica %d executed %016x",
                          static_cast<double>(now) / kSecond, replica, ex.digest.Prefix64(), ex.seq, e.first_replica,
                          e.digest.Prefix64());
    }
    ++violations_;
  }
  if (++e.count >= honest_) {
    executed_.erase(it);
  } else if (executed_.size() > kMaxTracked) {
    // A crashed replica, or one that caught up by state transfer, never executes some sequence
    // numbers: forget the oldest rather than grow without bound.
    executed_.erase(executed_.begin());
  }
}

}  // namespace geopbft
