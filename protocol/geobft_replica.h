// GeoBFT (Gupta et al., "ResilientDB: Global Scale Resilient Blockchain Fabric", PVLDB 2020) as a
// pure state machine on top of the PBFT one.
//
// Each cluster runs PBFT locally (PbftReplica with deferred execution): a locally committed batch
// at sequence number rho is the cluster's decision for round rho, with a commit certificate (the
// batch and n-f signed COMMITs). The cluster's primary sends the certificate to f+1 replicas of
// every other cluster (or, in the original design's variant, to their primaries only); a replica
// that receives one from another cluster verifies it and relays it once inside its cluster. Every
// replica executes round rho when it holds all z certificates of that round, in cluster order, and
// replies to the clients of its own cluster. An idle cluster's primary proposes no-ops for rounds
// other clusters have started. A replica that waits too long for cluster C's certificate asks its
// cluster (DRvc): a holder forwards it (repair); f+1 DRvcs make others join; n-f make each send a
// signed Rvc to the replica of the same index in C, and f+1 Rvcs make C change its primary, unless
// it just did.
//
// The layer over PBFT: the local group's decisions, installed views and state transfers come
// through PbftReplica's LocalOutcome channel; after every input, Settle takes them into the global
// layer and executes the rounds now complete, until nothing moves (no method re-enters another).
#ifndef GEOPBFT_PROTOCOL_GEOBFT_REPLICA_H_
#define GEOPBFT_PROTOCOL_GEOBFT_REPLICA_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "protocol/executed_timestamps.h"
#include "protocol/geobft_state.h"
#include "protocol/kept_answers.h"
#include "protocol/pbft_replica.h"
#include "protocol/replica.h"
#include "protocol/reputation.h"
#include "protocol/role_schedule.h"
#include "protocol/round_presence.h"

namespace geopbft {

enum class SharingMode {
  kFPlusOne,       // to f+1 replicas of every other cluster (GeoBFT)
  kPrimariesOnly,  // to the other clusters' primaries only (the original design's variant)
};

struct GeoConfig {
  PbftConfig local;  // this cluster's PBFT group (members = the cluster)
  uint32_t cluster = 0;
  std::vector<std::vector<NodeId>> clusters;  // every cluster's members, in cluster order
  SharingMode sharing = SharingMode::kFPlusOne;
  TimeNs remote_timeout = 2 * kSecond;  // waiting for a remote certificate before DRvc
  // Reputation (GEOBFT_REPUTATION, or flat PBFT as one cluster): scores from committed evidence,
  // committees and representatives re-selected every params.reselect_every rounds.
  bool reputation = false;
  ReputationParams params;
};

class GeoBftReplica : public Replica {
 public:
  static constexpr uint64_t kRemoteTimer = uint64_t{1} << 40;  // apart from local PBFT timer ids

  GeoBftReplica(GeoConfig config, Identity identity);

  void Step(TimeNs now, const Input& in, Effects& out) override;
  Effects Step(TimeNs now, const Input& in) {
    Effects out;
    Step(now, in, out);
    return out;
  }
  bool DropOutOfOrder(const Message& m) override { return local_.DropOutOfOrder(m); }
  uint64_t view() const override { return local_.view(); }
  uint64_t last_executed() const override { return executed_positions_; }
  uint64_t rounds_executed() const override { return next_round_ - 1; }
  bool IsPrimary() const override { return local_.IsPrimary(); }
  size_t state_entries() const override;
  std::string BoundViolation() const override;
  size_t log_size() const override { return local_.log_size() + certs_.size(); }
  std::string Describe() const override;

  const PbftReplica& local() const { return local_; }
  uint64_t next_round() const { return next_round_; }
  uint64_t remote_view_changes_requested() const { return remote_.requests_sent; }
  uint64_t repairs_sent() const { return remote_.repairs_sent; }  // certificates re-sent on DRvc / Rvc
  // Certificates of rounds we led but skipped by state transfer, shipped once fetched.
  uint64_t late_shares() const { return late_shares_; }
  uint64_t global_state_transfers() const { return catch_up_.state_transfers; }

  // Reputation (null / empty without it): the committed score table, every cluster's roles, and
  // each cluster's representative as of the last executed round.
  const ScoreBook* scores() const { return rep_.scores.get(); }
  const RoleSchedule& roles_of(uint32_t cluster) const { return rep_.cluster_roles[cluster]; }
  // Role of member i of cluster c for the next round.
  bool HasReputation() const override { return rep_.scores != nullptr; }
  Role RoleOf(uint32_t c, uint32_t i) const override;
  Role FirstRoleOf(uint32_t c, uint32_t i) const override;
  double ScoreOf(uint32_t c, uint32_t i) const override { return rep_.scores ? rep_.scores->Score(c, i) : 0; }
  double eviction_threshold() const override { return rep_.scores ? rep_.scores->params().eviction_threshold : 0; }
  NodeId representative(uint32_t c) const { return rep_.representative[c]; }
  uint64_t representative_changes() const override { return rep_.representative_changes; }
  std::vector<Barred> barred() const override { return rep_.scores ? rep_.scores->barred() : std::vector<Barred>{}; }
  uint64_t depositions() const override { return rep_.scores ? rep_.scores->depositions() : 0; }

 private:
  static bool Missing(const Digest& d) { return d == Digest(); }
  static constexpr uint64_t kRecentWindows = 4;  // executed rounds' certificates kept for repairs, in windows
  static constexpr size_t kKeptAnswers = 256;    // answers per client (re-sent requests): memory stays bounded
  static constexpr size_t kKeptGlobalSnapshots = 2;
  static constexpr size_t kMaxOffers = 8;  // global-state offers kept, whatever peers send

  // One cluster's certificate for one round.
  struct Certificate {
    uint64_t view = 0;
    Digest digest;
    MessagePtr share;   // the signed GLOBAL-SHARE (built lazily for our own cluster)
    LocalDecision own;  // our own cluster's decision
  };
  using Round = std::vector<Certificate>;  // indexed by cluster; digest all-zero = missing

  static const Message& CarrierOf(const Certificate& c);        // the message carrying its batch
  static const wire::Batch& BatchHeadOf(const Certificate& c);  // its requests may be compacted away
  void TrimRecent();
  void Settle(TimeNs now, Effects& out, bool rounds_may_be_ready = false);
  bool TakeLocalOutcome(TimeNs now, Effects& out);
  void OnDecided(TimeNs now, LocalDecision d, Effects& out);
  MessagePtr ShareOf(Certificate& c, uint64_t round, OpCounts& ops);
  void ShareCertificate(uint64_t round, Effects& out);
  void OnGlobalShare(TimeNs now, const MessagePtr& m, Effects& out);
  bool ValidCertificate(const Message& m, OpCounts& ops) const;
  static int CertificateSigners(const Message& m, const std::vector<NodeId>& members);
  bool ExecuteReadyRounds(TimeNs now, Effects& out);
  void ArmRemoteTimer(TimeNs now, Effects& out);
  void SetRemoteTimer(TimeNs now, bool lost, Effects& out);
  void OnRemoteTimer(TimeNs now, Effects& out);
  void SendDrvc(uint32_t cluster, uint64_t round, Effects& out);
  void SendRvc(uint32_t cluster, uint64_t round, Effects& out);
  void FetchOwnCertificates(Effects& out);
  // Global-layer catch-up (see messages.proto, GlobalSnapshot).
  void TakeGlobalSnapshot();
  void RequestGlobalState(TimeNs now, Effects& out);
  void OnGlobalStateRequest(const MessagePtr& m, Effects& out);
  void OnGlobalState(TimeNs now, const MessagePtr& m, Effects& out);
  void InstallGlobalSnapshot(TimeNs now, const wire::GlobalSnapshot& snap, Effects& out);
  void OnDrvc(const MessagePtr& m, Effects& out);
  void OnRvc(TimeNs now, const MessagePtr& m, Effects& out);
  bool Has(uint64_t round, uint32_t cluster) const;
  void NotePresence(uint64_t round);  // after certs_[round] changed (or came into presence_'s ring)
  MessagePtr Recent(uint64_t round, uint32_t cluster, OpCounts& ops);  // null when forgotten
  uint32_t SendRepair(uint64_t round, uint32_t cluster, NodeId to, Effects& out);
  int LocalIndexOf(NodeId n) const;
  int ClusterOf(NodeId n) const;
  // A client re-sent a request the global order already executed: answer it again.
  bool AnswerExecuted(const MessagePtr& m, Effects& out);
  void SendReply(NodeId client, uint64_t timestamp, uint64_t result, Effects& out);
  uint32_t Faults(uint32_t cluster) const { return config_.local.f; }
  uint32_t VotersOf(uint32_t cluster) const;  // committee size (cluster size without reputation)
  bool SignedByCommittee(const Certificate& c, uint32_t cluster, uint64_t round) const;
  void ScoreRound(TimeNs now, uint64_t round, const Round& r, Effects& out);
  bool Monitoring() const;
  void NoteOthersIn(TimeNs now, uint64_t round);
  void MeasurePace(TimeNs now, TimeNs proposed_at, uint64_t round, uint64_t view, Effects& out);

  GeoConfig config_;
  Identity identity_;
  PbftReplica local_;
  uint32_t num_clusters_;  // z in the paper
  // ClusterOf's shortcut: when every cluster is a run of consecutive ids, in cluster order (how the
  // simulator numbers replicas), each run's first id; empty otherwise (a linear search then).
  std::vector<NodeId> cluster_starts_;

  uint64_t next_round_ = 1;          // the round executed next
  uint64_t executed_positions_ = 0;  // position in the global order: (round - 1) * z + cluster + 1
  absl::btree_map<uint64_t, Round> certs_;
  RoundPresence presence_;  // which of certs_ are here, for the rounds next_round_ onwards (see Has)
  // Certificates of recently executed rounds, to repair replicas (here or in other clusters) that
  // lost them, kept for four windows of rounds. Every replica holds these, so they are kept lean:
  // the other clusters' certificates as the shared GLOBAL-SHARE messages they arrived in (a
  // pointer each), only our own cluster's as a decision (its share is built when someone asks).
  struct ExecutedRound {
    std::vector<MessagePtr> shares;  // indexed by cluster; our own cluster's slot stays empty
    Certificate own;
  };
  std::deque<ExecutedRound> recent_;                     // rounds next_round_ - recent_.size() .. next_round_ - 1
  std::vector<uint64_t> remote_view_;                    // latest view seen in each cluster's certificates
  absl::btree_map<NodeId, ExecutedTimestamps> clients_;  // global at-most-once table
  // Results of our own clients' latest requests (per client, bounded), to answer one that re-sends
  // a request whose replies it lost. Not part of the global snapshot: a replica that caught up by
  // state transfer leaves those answers to its peers.
  absl::btree_map<NodeId, KeptAnswers> answers_;
  BatchAnswers batch_answers_;  // of the batch executing (scratch: empty between steps)

  uint64_t late_shares_ = 0;

  // By concern (protocol/geobft_state.h).
  GeoRemoteViewChange remote_;
  GeoCatchUp catch_up_;
  GeoReputation rep_;
  GeoPaceMonitor pace_;
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_GEOBFT_REPLICA_H_
