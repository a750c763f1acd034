// "Did you mean ...?" for names a user typed: --set paths, enum values, scenario fields, options.
#ifndef GEOPBFT_SIM_SUGGEST_H_
#define GEOPBFT_SIM_SUGGEST_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace google::protobuf {
class Descriptor;
class EnumDescriptor;
}  // namespace google::protobuf

namespace geopbft {

// Edit distance with adjacent transpositions (optimal string alignment), case-insensitive.
size_t EditDistance(absl::string_view a, absl::string_view b);

// The names closest to `typed`, best first (at most `max`): within an edit distance of a third of
// the typed length (at least 2), or containing it / contained in it. Empty when nothing is close.
std::vector<std::string> ClosestNames(absl::string_view typed, const std::vector<std::string>& names, size_t max = 3);

// "; did you mean 'a'?" or "; did you mean one of 'a', 'b'?" — or "" when nothing is close.
std::string DidYouMean(absl::string_view typed, const std::vector<std::string>& names);

// The field names of a message type and the value names of an enum, in declaration order.
std::vector<std::string> FieldNames(const google::protobuf::Descriptor& d);
std::vector<std::string> EnumValueNames(const google::protobuf::EnumDescriptor& e);

}  // namespace geopbft

#endif  // GEOPBFT_SIM_SUGGEST_H_
