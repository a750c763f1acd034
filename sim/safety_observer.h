// Safety, as the honest replicas and the clients show it: no two honest replicas execute different
// batches at one position (AgreementChecker), no client accepts a result an honest replica did not
// produce (ReplyChecker), and honest replicas choose the same roles after the same round
// (reputation: the fingerprint of scores and roles each reports).
#ifndef GEOPBFT_SIM_SAFETY_OBSERVER_H_
#define GEOPBFT_SIM_SAFETY_OBSERVER_H_

#include <cstdint>
#include <string>

#include "absl/container/btree_map.h"
#include "sim/agreement_checker.h"
#include "sim/observer.h"
#include "sim/reply_checker.h"

namespace geopbft {

class SafetyObserver : public Observer {
 public:
  explicit SafetyObserver(uint32_t honest_replicas) : agreement_(honest_replicas), replies_(honest_replicas) {}

  uint32_t interests() const override { return kReplicaSteps | kClientSteps; }
  void OnReplicaStep(TimeNs now, const ReplicaStep& s) override;
  void OnClientStep(TimeNs now, const ClientStep& s) override;

  uint64_t violations() const { return agreement_.violations() + replies_.violations() + role_disagreements_; }
  const std::string& first_violation() const {
    if (agreement_.violations() > 0) return agreement_.first_violation();
    return replies_.violations() > 0 ? replies_.first_violation() : first_role_disagreement_;
  }
  uint64_t reply_violations() const { return replies_.violations(); }
  uint64_t role_disagreements() const { return role_disagreements_; }

 private:
  AgreementChecker agreement_;
  ReplyChecker replies_;
  absl::btree_map<uint64_t, uint64_t> roles_by_round_;  // round -> fingerprint first reported
  uint64_t role_disagreements_ = 0;
  std::string first_role_disagreement_;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_SAFETY_OBSERVER_H_
