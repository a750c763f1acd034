#include "sim/trace.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

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
  // Timestamps in microseconds with nanosecond precision, as the format expects. An instant event's
  // scope defaults to its thread (the node's lane); arguments that are zero are left out (most
  // events have no view, many no sequence number): a line is about half as long.
  std::string line =
      absl::StrFormat("{\"ts\":%d.%03d,\"ph\":\"i\",\"pid\":%d,\"tid\":%d,\"name\":\"%s\",\"args\":{\"from\":%d",
                      r.time / 1000, r.time % 1000, r.client ? 2 : 1, r.target, name, r.source);
  if (r.view != 0) absl::StrAppendFormat(&line, ",\"view\":%d", r.view);
  if (r.seq != 0) absl::StrAppendFormat(&line, ",\"seq\":%d", r.seq);
  if (r.extra != 0) absl::StrAppendFormat(&line, ",\"x\":%d", r.extra);
  if (r.twin) line += ",\"twin\":\"B\"";
  line += "}},\n";
  std::fwrite(line.data(), 1, line.size(), sink_);
}

namespace {

bool ParseTime(absl::string_view v, TimeNs* t) {
  double scale = 0;
  for (auto [suffix, ns] : {std::pair<absl::string_view, double>{"ms", 1e6}, {"us", 1e3}, {"s", 1e9}}) {
    if (absl::ConsumeSuffix(&v, suffix)) {
      scale = ns;
      break;
    }
  }
  double x;
  if (scale == 0 || !absl::SimpleAtod(v, &x) || !(x >= 0) || x > 1e9) return false;
  *t = static_cast<TimeNs>(x * scale + 0.5);
  return true;
}

}  // namespace

bool ParseTraceFilter(std::string_view spec, TraceFilter* filter, std::string* error) {
  for (absl::string_view part : absl::StrSplit(absl::string_view(spec.data(), spec.size()), ',', absl::SkipEmpty())) {
    const size_t colon = part.find(':');
    const absl::string_view key = part.substr(0, colon), value = colon == part.npos ? "" : part.substr(colon + 1);
    bool ok = false;
    if (key == "replicas" || key == "nodes") {
      std::vector<absl::string_view> ends = absl::StrSplit(value, '-');
      uint32_t a = 0, b = 0;
      ok = (ends.size() == 1 || ends.size() == 2) && absl::SimpleAtoi(ends.front(), &a) &&
           absl::SimpleAtoi(ends.back(), &b) && a <= b;
      filter->first_node = a, filter->last_node = b;
    } else if (key == "from" || key == "to") {
      ok = ParseTime(value, key == "from" ? &filter->from : &filter->to);
    }
    if (!ok) {
      *error = absl::StrCat("bad --trace filter '", part,
                            "': expected replicas:A-B, from:TIME, to:TIME (TIME in s, ms or us), comma-separated");
      return false;
    }
  }
  if (filter->from > filter->to) {
    *error = "--trace: from is after to";
    return false;
  }
  return true;
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
