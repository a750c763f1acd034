#include "sim/suggest.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace geopbft {
namespace {

bool ContainsIgnoringCase(absl::string_view haystack, absl::string_view needle) {
  return absl::StrContains(absl::AsciiStrToLower(std::string(haystack)), absl::AsciiStrToLower(std::string(needle)));
}

}  // namespace

size_t EditDistance(absl::string_view a_in, absl::string_view b_in) {
  const std::string a = absl::AsciiStrToLower(std::string(a_in)), b = absl::AsciiStrToLower(std::string(b_in));
  const size_t n = a.size(), m = b.size();
  // Three rows: the previous two and the current (transpositions look two back).
  std::vector<size_t> two(m + 1), one(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) one[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({one[j] + 1, cur[j - 1] + 1, one[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], two[j - 2] + 1);
    }
    std::swap(two, one);
    std::swap(one, cur);
  }
  return one[m];
}

std::vector<std::string> ClosestNames(absl::string_view typed, const std::vector<std::string>& names, size_t max) {
  if (typed.empty()) return {};
  const size_t limit = std::max<size_t>(2, typed.size() / 3);
  std::vector<std::pair<size_t, std::string>> close;
  for (const std::string& name : names) {
    size_t d = EditDistance(typed, name);
    // A word the user typed as part of the name (or the name with extra letters) is close too.
    if (d > limit && typed.size() >= 3 && (ContainsIgnoringCase(name, typed) || ContainsIgnoringCase(typed, name))) {
      d = limit;
    }
    if (d <= limit) close.emplace_back(d, name);
  }
  std::stable_sort(close.begin(), close.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < close.size() && i < max; ++i) out.push_back(close[i].second);
  return out;
}

std::string DidYouMean(absl::string_view typed, const std::vector<std::string>& names) {
  const std::vector<std::string> close = ClosestNames(typed, names);
  if (close.empty()) return "";
  if (close.size() == 1) return absl::StrCat("; did you mean '", close[0], "'?");
  std::string list;
  for (const std::string& c : close) absl::StrAppend(&list, list.empty() ? "" : ", ", "'", c, "'");
  return absl::StrCat("; did you mean one of ", list, "?");
}

std::vector<std::string> FieldNames(const google::protobuf::Descriptor& d) {
  std::vector<std::string> out;
  for (int i = 0; i < d.field_count(); ++i) out.push_back(d.field(i)->name());
  return out;
}

std::vector<std::string> EnumValueNames(const google::protobuf::EnumDescriptor& e) {
  std::vector<std::string> out;
  for (int i = 0; i < e.value_count(); ++i) out.push_back(e.value(i)->name());
  return out;
}

}  // namespace geopbft
