// Regions with pairwise round-trip time and bandwidth: the embedded six-region Google Cloud catalog
// (scenarios/gcp-regions.csv, compiled in) or a scenario's own matrix.
#ifndef GEOPBFT_SIM_REGION_CATALOG_H_
#define GEOPBFT_SIM_REGION_CATALOG_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "scenarios/scenario.pb.h"

namespace geopbft {

class RegionCatalog {
 public:
  // The compiled-in catalog.
  static const RegionCatalog& Embedded();
  // CSV with header region_a,region_b,rtt_ms,bandwidth_mbps; '#' lines are comments.
  static absl::StatusOr<RegionCatalog> ParseCsv(absl::string_view csv);
  // The scenario's network.regions / network.links (validated by the scenario loader).
  static RegionCatalog FromScenario(const scenario::Network& net);

  size_t size() const { return names_.size(); }
  const std::string& name(int i) const { return names_[i]; }
  int Find(absl::string_view name) const;  // -1 when unknown
  // Negative when the pair was never given.
  double rtt_ms(int a, int b) const { return rtt_[a * names_.size() + b]; }
  double bandwidth_mbps(int a, int b) const { return bw_[a * names_.size() + b]; }

 private:
  int Add(absl::string_view name);
  void Set(int a, int b, double rtt, double bw);

  std::vector<std::string> names_;
  std::vector<double> rtt_, bw_;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_REGION_CATALOG_H_
