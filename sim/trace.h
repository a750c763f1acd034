// Observer of every dispatched event. Always keeps a rolling 64-bit digest of the run (the
// trace_digest of summary.json: equal digests mean the same events at the same times in the same
// order). With a sink it also writes trace.log: one event per line in the Chrome trace-event JSON
// array format, readable as text and loadable by Perfetto / chrome://tracing.
#ifndef GEOPBFT_SIM_TRACE_H_
#define GEOPBFT_SIM_TRACE_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "protocol/types.h"

namespace geopbft {

struct TraceRecord {
  TimeNs time = 0;
  uint32_t kind = 0;  // event kind
  NodeId target = 0;
  NodeId source = 0;
  uint32_t msg_type = 0;
  uint64_t view = 0;
  uint64_t seq = 0;
  uint64_t extra = 0;   // timer id, message size...
  bool client = false;  // target is a client (a separate lane in the viewer)
  bool twin = false;    // target (or, for a delayed send, source) is a TWIN's instance B
};

// Which events trace.log shows (`run --trace=replicas:0-3,from:2s,to:4s`): the digest always folds
// every event; the filter only decides what is written.
struct TraceFilter {
  NodeId first_node = 0, last_node = UINT32_MAX;  // the event's target (a replica or client id)
  TimeNs from = 0, to = INT64_MAX;
  bool Admits(const TraceRecord& r) const {
    return r.target >= first_node && r.target <= last_node && r.time >= from && r.time <= to;
  }
};
// Parses "replicas:A-B" (or "replicas:A"), "from:T" and "to:T" (T in s, ms or us: "2s", "1500ms"),
// comma-separated, in any order. Returns false with `*error` set on anything else.
bool ParseTraceFilter(std::string_view spec, TraceFilter* filter, std::string* error);

class Trace {
 public:
  // Writes lines to `sink` when not null (the caller owns and closes it).
  explicit Trace(std::FILE* sink = nullptr);
  void SetFilter(const TraceFilter& f) { filter_ = f; }

  // Folds the event into the digest and, when writing, appends its line (`name` is called only
  // then: most runs keep the digest alone, and every event passes here).
  template <typename NameFn>
  void Record(const TraceRecord& r, NameFn&& name) {
    // The fields are folded with independent multipliers first (their products do not wait on
    // each other), then chained into the digest by one mix: one dependent mix per event, not five.
    uint64_t h = static_cast<uint64_t>(r.time) * 0x9e3779b97f4a7c15ULL;
    h ^= ((uint64_t{r.kind | (r.twin ? 0x80u : 0u)} << 56) ^ (uint64_t{r.msg_type} << 48) ^ (uint64_t{r.target} << 24) ^
          r.source) *
         0xc2b2ae3d27d4eb4fULL;
    h ^= r.view * 0x165667b19e3779f9ULL;
    h ^= r.seq * 0xd6e8feb86659fd93ULL;
    h ^= r.extra * 0xff51afd7ed558ccdULL;
    Mix(h);
    if (sink_ && filter_.Admits(r)) Write(r, name());
  }
  // Names a node in the viewer (written once at the start).
  void NameNode(NodeId node, bool is_client, std::string_view label);
  void Finish(TimeNs end);

  uint64_t digest() const { return digest_; }
  std::string DigestHex() const;

 private:
  void Write(const TraceRecord& r, std::string_view name);
  void Mix(uint64_t v) { digest_ = Mix64(digest_ ^ v) * 0x100000001b3ULL; }
  std::FILE* sink_;
  TraceFilter filter_;
  uint64_t digest_ = 0xcbf29ce484222325ULL;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_TRACE_H_
