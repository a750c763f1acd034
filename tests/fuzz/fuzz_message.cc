// libFuzzer target: everything a Byzantine peer can put on the wire. The input is
//   byte 0: the sender (a replica 0-7 or a client 8-9), byte 1: how it authenticates,
//   the rest: a wire::Envelope (or raw bytes for the decoder).
// The envelope is sealed with the sender's own key, as a Byzantine member would, so that it passes
// authentication and reaches the validators behind it (proposals, votes, certificates, view
// changes, state transfers, GeoBFT shares and repairs, vote evidence). It is then delivered to a
// flat PBFT replica and to a GeoBFT-with-reputation replica (2 clusters of 4). Malformed input must
// be rejected and counted, never crash or trip a sanitizer.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "protocol/geobft_replica.h"
#include "protocol/message.h"
#include "protocol/pbft_replica.h"

namespace geopbft {
namespace {

PbftConfig LocalConfig(std::vector<NodeId> members) {
  PbftConfig cfg;
  cfg.members = std::move(members);
  cfg.self_index = 0;
  cfg.f = 1;
  cfg.batch_size = 2;
  cfg.window = 16;
  cfg.checkpoint_interval = 4;
  return cfg;
}

void Deliver(Replica& r, const MessagePtr& m) {
  Effects out;
  r.Step(kMillisecond, Input::Deliver(m), out);
  r.Step(2 * kMillisecond, Input::Timer(0), out);  // whatever timer it set next, with the message in
}

}  // namespace
}  // namespace geopbft

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace geopbft;
  static KeyRing keys(1, CryptoMode::kFast);
  static const std::vector<NodeId> group = {0, 1, 2, 3};
  if (size < 2) return 0;
  const NodeId sender = data[0] % 10;
  const uint8_t auth = data[1] % 3;
  const std::string_view body(reinterpret_cast<const char*>(data + 2), size - 2);

  PbftReplica pbft(LocalConfig(group), Identity(&keys, 0));
  GeoConfig gc;
  gc.local = LocalConfig(group);
  gc.cluster = 0;
  gc.clusters = {{0, 1, 2, 3}, {4, 5, 6, 7}};
  gc.reputation = true;
  GeoBftReplica geo(gc, Identity(&keys, 0));

  // Raw bytes through the wire decoder.
  absl::StatusOr<MessagePtr> decoded = DecodeMessage(body, CryptoMode::kFast);
  if (decoded.ok()) {
    Deliver(pbft, *decoded);
    Deliver(geo, *decoded);
  }
  // The same bytes as an envelope a member (or client) signed itself.
  wire::Envelope env;
  if (!env.ParseFromArray(body.data(), static_cast<int>(body.size())) ||
      env.body_case() == wire::Envelope::BODY_NOT_SET) {
    return 0;
  }
  env.set_sender(sender);
  env.clear_signature();
  env.clear_macs();
  OpCounts ops;
  const Auth a = auth == 0 ? Auth::Signature() : auth == 1 ? Auth::MacGroup(&group) : Auth::MacTo(0);
  MessagePtr m = Seal(std::move(env), Identity(&keys, sender), a, ops);
  Deliver(pbft, m);
  Deliver(geo, m);
  return 0;
}
