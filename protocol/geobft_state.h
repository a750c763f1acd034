// GeoBftReplica's state beyond certificates and rounds, grouped by the concern (and the
// geobft_*.cc file) that owns it.
#ifndef GEOPBFT_PROTOCOL_GEOBFT_STATE_H_
#define GEOPBFT_PROTOCOL_GEOBFT_STATE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "protocol/reputation.h"
#include "protocol/role_schedule.h"
#include "protocol/types.h"

namespace geopbft {

// geobft_remote_view_change.cc: the remote timer, certificate repair and remote view change.
struct GeoRemoteViewChange {
  bool timer_armed = false;
  uint64_t timer_round = 0;
  bool timer_lost = false;  // armed short: a later certificate of a missing cluster is here
  uint32_t attempts = 0;
  // DRVC: our peers reporting cluster C silent in a round ((C, round) -> their local indexes), and
  // the (C, round) we reported ourselves; RVC: the (C, round) we told C about, and the complaints of
  // other clusters about ours ((from cluster, round) -> their senders).
  absl::btree_map<std::pair<uint32_t, uint64_t>, absl::btree_set<uint32_t>> silence_reports;
  absl::btree_set<std::pair<uint32_t, uint64_t>> silence_reported, view_change_sent;
  absl::btree_map<std::pair<uint32_t, uint64_t>, absl::btree_set<NodeId>> view_change_votes;
  absl::btree_set<std::pair<uint32_t, uint64_t>> view_change_acted;
  absl::btree_set<std::pair<NodeId, uint64_t>> relayed_view_changes;  // (remote sender, round) relayed locally
  TimeNs last_local_view_change = -1;
  uint64_t requests_sent = 0;
  uint64_t repairs_sent = 0;
};

// geobft_catch_up.cc: own snapshots (round -> serialized GlobalSnapshot, the latest two) and the
// snapshots peers offered, by (round, digest), with who offered them.
struct GeoCatchUp {
  struct Offer {
    std::string bytes;
    absl::btree_set<NodeId> senders;
  };
  absl::btree_map<uint64_t, std::string> snapshots;
  absl::btree_map<std::pair<uint64_t, std::string>, Offer> offers;
  TimeNs last_request = -1;
  uint64_t state_transfers = 0;
};

// geobft_roles.cc: scores and every cluster's roles (reputation).
struct GeoReputation {
  std::unique_ptr<ScoreBook> scores;
  std::vector<RoleSchedule> cluster_roles;
  std::vector<NodeId> representative;
  uint64_t representative_changes = 0;
};

// geobft_roles.cc: the committee's pace monitor (see GeoBftReplica::MeasurePace).
struct GeoPaceMonitor {
  absl::btree_map<uint64_t, TimeNs> others_in;  // round -> when the last other cluster's certificate came
  std::deque<std::pair<TimeNs, TimeNs>> lags;   // recent (lag, proposal time) under (view, leader)
  uint64_t view = 0;
  uint32_t leader = 0;
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_GEOBFT_STATE_H_
