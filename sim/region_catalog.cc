#include "sim/region_catalog.h"

#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace geopbft {

extern const char kEmbeddedRegionCatalogCsv[];

const RegionCatalog& RegionCatalog::Embedded() {
  static const RegionCatalog* catalog = [] {
    auto parsed = ParseCsv(kEmbeddedRegionCatalogCsv);
    if (!parsed.ok()) std::abort();  // the build embeds a checked file; a test covers it
    return new RegionCatalog(*std::move(parsed));
  }();
  return *catalog;
}

int RegionCatalog::Find(absl::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

int RegionCatalog::Add(absl::string_view name) {
  int i = Find(name);
  if (i >= 0) return i;
  size_t old = names_.size(), n = old + 1;
  std::vector<double> rtt(n * n, -1), bw(n * n, -1);
  for (size_t a = 0; a < old; ++a) {
    for (size_t b = 0; b < old; ++b) {
      rtt[a * n + b] = rtt_[a * old + b];
      bw[a * n + b] = bw_[a * old + b];
    }
  }
  rtt_ = std::move(rtt);
  bw_ = std::move(bw);
  names_.emplace_back(name);
  return static_cast<int>(old);
}

void RegionCatalog::Set(int a, int b, double rtt, double bw) {
  size_t n = names_.size();
  rtt_[a * n + b] = rtt_[b * n + a] = rtt;
  bw_[a * n + b] = bw_[b * n + a] = bw;
}

absl::StatusOr<RegionCatalog> RegionCatalog::ParseCsv(absl::string_view csv) {
  RegionCatalog c;
  int line_no = 0;
  bool header = true;
  for (absl::string_view line : absl::StrSplit(csv, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    if (header) {
      header = false;
      continue;
    }
    std::vector<absl::string_view> f = absl::StrSplit(line, ',');
    double rtt, bw;
    if (f.size() != 4 || !absl::SimpleAtod(f[2], &rtt) || !absl::SimpleAtod(f[3], &bw) || rtt < 0 || bw <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("region catalog line ", line_no, ": expected region_a,region_b,rtt_ms,bandwidth_mbps"));
    }
    int a = c.Add(f[0]), b = c.Add(f[1]);
    c.Set(a, b, rtt, bw);
  }
  return c;
}

RegionCatalog RegionCatalog::FromScenario(const scenario::Network& net) {
  RegionCatalog c;
  for (const auto& r : net.regions()) c.Add(r.name());
  for (size_t i = 0; i < c.size(); ++i) {
    c.Set(static_cast<int>(i), static_cast<int>(i), net.intra_region_rtt_ms(), net.intra_region_bandwidth_mbps());
  }
  for (const auto& l : net.links()) {
    int a = c.Find(l.a()), b = c.Find(l.b());
    if (a >= 0 && b >= 0) c.Set(a, b, l.rtt_ms(), l.bandwidth_mbps());
  }
  return c;
}

}  // namespace geopbft
