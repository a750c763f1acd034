#include "sim/trace_observer.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"

namespace geopbft {

TraceObserver::TraceObserver(std::FILE* sink, const Topology& topo) : trace_(sink), replicas_(topo.replicas) {
  for (NodeId r = 0; r < topo.replicas; ++r) {
    trace_.NameNode(r, false, absl::StrFormat("replica %d (%s)", r, topo.region_names[r]));
  }
  for (uint32_t c = 0; c < topo.clients(); ++c) {
    const NodeId id = topo.replicas + c;
    trace_.NameNode(id, true, absl::StrFormat("client %d (%s)", id, topo.region_names[id]));
  }
}

void TraceObserver::OnEvent(TimeNs now, const EventSeen& e) {
  TraceRecord rec;
  rec.time = now;
  rec.kind = static_cast<uint32_t>(e.kind);
  rec.target = e.target;
  rec.source = e.source;
  rec.twin = e.instance != 0;
  if (e.kind == EventKind::kDeliver) {
    rec.msg_type = static_cast<uint32_t>(e.msg->type);
    rec.view = e.msg->view;
    rec.seq = e.msg->seq;
    rec.extra = e.msg->wire_size;
  } else if (e.kind == EventKind::kTimer || e.kind == EventKind::kFault) {
    rec.extra = e.timer_id;
  }
  trace_.Record(rec, [&]() -> std::string_view {
    // (Only when the trace is written.)
    rec.client = e.kind != EventKind::kSample && e.kind != EventKind::kFault && e.kind != EventKind::kDelayedSend &&
                 e.target >= replicas_;
    switch (e.kind) {
      case EventKind::kDeliver:
        return MsgTypeName(e.msg->type);
      case EventKind::kTimer:
        return "timer";
      case EventKind::kCpuDone:
        return "cpu-done";
      case EventKind::kSubmit:
        return "submit";
      case EventKind::kSample:
        return "sample";
      case EventKind::kFault:
        return "fault";
      case EventKind::kDelayedSend:
        return "delayed-send";
    }
    return "";
  });
}

void SentLogObserver::OnReplicaStep(TimeNs now, const ReplicaStep& s) {
  for (const Outgoing& o : s.fx.sends) {
    if (o.msg->type == MsgType::kPrePrepare || o.msg->type == MsgType::kCommit || o.msg->type == MsgType::kCheckpoint) {
      std::fprintf(sink_, "%lld %lld %s\n", static_cast<long long>(now),
                   o.to == kToGroup ? -1LL : static_cast<long long>(o.to),
                   absl::BytesToHexString(EncodeMessage(*o.msg)).c_str());
    }
  }
}

}  // namespace geopbft
