// Semantic checks of a parsed scenario, each error located at the field that is wrong (or its
// closest written ancestor) as "path:line:col: what is wrong".
#ifndef GEOPBFT_SIM_SCENARIO_VALIDATOR_H_
#define GEOPBFT_SIM_SCENARIO_VALIDATOR_H_

#include <string>
#include <vector>

#include "google/protobuf/text_format.h"
#include "scenarios/scenario.pb.h"

namespace geopbft {

// Appends to `errors`; `tree` (may be null) locates fields in the text the scenario came from.
void ValidateScenario(const scenario::Scenario& s, const std::string& path,
                      const google::protobuf::TextFormat::ParseInfoTree* tree, std::vector<std::string>* errors);

}  // namespace geopbft

#endif  // GEOPBFT_SIM_SCENARIO_VALIDATOR_H_
