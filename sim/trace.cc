#include "sim/trace.h"

#include "absl/strings/str_format.h"

namespace geopbft {

Trace::Trace(std::FILE* sink) : sink_(sink) {
  if (sink_) std::fputs("[\n", sink_);
}

void Trace::NameNode(NodeId node, bool is_client, std::string_view label) {
  if (!sink_) return;
  absl::FPrintF(sink_, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":\"%s\"}},\n",
                is_client ? 2 : 1, node, label);
}

void Trace::Write(const TraceRecord& r, std::string_view name) {
  // Timestamps in microseconds with nanosecond precision, as the format expects.
  absl::FPrintF(sink_,
                "{\"ts\":%d.%03d,\"ph\":\"i\",\"s\":\"t\",\"pid\":%d,\"tid\":%d,\"name\":\"%s\","
                "\"args\":{\"from\":%d,\"view\":%d,\"seq\":%d,\"x\":%d}},\n",
                r.time / 1000, r.time % 1000, r.client ? 2 : 1, r.target, name, r.source, r.view, r.seq, r.extra);
}

void Trace::Finish(TimeNs end) {
  if (!sink_) return;
  absl::FPrintF(sink_,
                "{\"ts\":%d.%03d,\"ph\":\"i\",\"s\":\"g\",\"pid\":1,\"tid\":0,\"name\":\"end\",\"args\":{\"digest\":\"%"
                "s\"}}\n]\n",
                end / 1000, end % 1000, DigestHex());
}

std::string Trace::DigestHex() const { return absl::StrFormat("%016x", digest_); }

}  // namespace geopbft
