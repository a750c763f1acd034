// Byzantine behaviours (DESIGN §5), applied to what a replica's honest state machine wants to send:
// votes withheld, votes for another digest, equivocating or stalling proposals, lying evidence. A
// Byzantine replica re-signs only with its own Identity, so it cannot forge anyone else's message;
// everything it does is visible to, and must be survived by, the honest replicas.
#ifndef GEOPBFT_SIM_BYZANTINE_H_
#define GEOPBFT_SIM_BYZANTINE_H_

#include <algorithm>
#include <string>
#include <vector>

#include "protocol/crypto.h"
#include "protocol/effects.h"
#include "scenarios/scenario.pb.h"

namespace geopbft {

// A send the behaviour wants delayed (SLOW_PRIMARY).
struct DelayedSend {
  TimeNs at = 0;
  Outgoing send;
};

class ByzantineBehaviour {
 public:
  ByzantineBehaviour(const scenario::Byzantine& spec, TimeNs default_delay);

  // Active at `now` for a replica that has executed `rounds` rounds. (A twin is Byzantine all along:
  // its two instances share one identity from the start.)
  bool Active(TimeNs now, uint64_t rounds) const {
    return twin() || (now >= from_ && rounds >= from_round_ && (until_ == 0 || now < until_));
  }
  // When it turns on, if that is a time (-1 when it waits for a round).
  TimeNs starts_at() const { return twin() ? 0 : from_round_ == 0 ? from_ : -1; }

  // TWIN: the replica runs as two instances (the engine hosts the second one). While `Split(now)`,
  // instance B talks only with the replicas on its side and instance A only with the others.
  bool twin() const { return kind_ == scenario::Byzantine::TWIN; }
  bool Split(TimeNs now) const { return now >= from_ && (until_ == 0 || now < until_); }
  bool OnSideB(NodeId replica) const { return std::binary_search(twin_side_.begin(), twin_side_.end(), replica); }
  // "honest", or the behaviour's name ("turncoat-" prefixed when it starts mid-run).
  std::string Name() const;

  // Rewrites `fx.sends` of replica `self` (whose group is `group`) at `now`; sends to hold back go
  // to `delayed`. Charges the re-signing to fx.ops.
  void Apply(TimeNs now, uint64_t rounds, const Identity& self, const std::vector<NodeId>& group, Effects& fx,
             std::vector<DelayedSend>& delayed) const;

 private:
  scenario::Byzantine::Behaviour kind_;
  TimeNs from_, until_, delay_;
  uint64_t from_round_;
  std::vector<NodeId> twin_side_;  // sorted
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_BYZANTINE_H_
