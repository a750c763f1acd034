#include "sim/sweep.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "sim/rng.h"
#include "sim/scenario_loader.h"
#include "sim/summary.pb.h"
#include "sim/topology.h"

namespace geopbft {
namespace {

constexpr char kFaultRatio[] = "fault_ratio";
// The defence matrix: "culprit" (a Byzantine behaviour, "slow-machine" for an honest replica on a
// machine five times slower, or "none") and "position" ("representative": cluster 0's first
// representative, replica 0; "committee": a committee member of it, replica 1). The culprit turns
// at culprit_from_s, after a clean start.
constexpr char kCulprit[] = "culprit";
constexpr char kPosition[] = "position";
constexpr double kCulpritFromS = 2;

// The override that places `culprit` at `position`; empty with an error when either is unknown.
std::string CulpritOverride(const std::string& culprit, const std::string& position, std::string* error) {
  uint32_t replica = 0;
  if (position == "committee") {
    replica = 1;
  } else if (position != "representative" && !position.empty()) {
    *error = absl::StrFormat("position '%s' is neither representative nor committee", position);
    return "";
  }
  if (culprit == "none" || culprit.empty()) return "byzantine=[]";
  if (culprit == "slow-machine") {
    return absl::StrFormat("faults=[{kind: SLOW at_s: %g replicas: [%d] speed: 0.2}]", kCulpritFromS, replica);
  }
  std::string name = absl::AsciiStrToUpper(absl::StrReplaceAll(culprit, {{"-", "_"}}));
  scenario::Byzantine::Behaviour b;
  if (!scenario::Byzantine::Behaviour_Parse(name, &b)) {
    *error = absl::StrFormat(
        "culprit '%s' is not none, slow-machine or a Byzantine behaviour (silent, vote-against, "
        "equivocate, slow-primary, lying-evidence)",
        culprit);
    return "";
  }
  return absl::StrFormat("byzantine=[{replicas: [%d] behaviour: %s from_s: %g}]", replica, name, kCulpritFromS);
}

std::string DirOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string SweepName(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  for (const char* suffix : {".sweep.textproto", ".textproto"}) {
    if (absl::EndsWith(name, suffix)) return name.substr(0, name.size() - std::string(suffix).size());
  }
  return name;
}

// floor(ratio x per-cluster size) replicas of every cluster, chosen from the seed (a partial
// Fisher-Yates shuffle per cluster on a stream of its own).
std::string ByzantineOverride(const scenario::Scenario& s, double ratio, scenario::Byzantine::Behaviour b,
                              uint32_t seed) {
  const Topology topo = Topology::FromScenario(s);
  std::vector<uint32_t> chosen;
  for (uint32_t c = 0; c < topo.clusters; ++c) {
    const std::vector<NodeId>& members = topo.cluster_members[c];
    const uint32_t per = static_cast<uint32_t>(members.size());
    const uint32_t k = static_cast<uint32_t>(std::floor(ratio * per + 1e-9));
    Rng rng(seed * 0x9E3779B97F4A7C15ull ^ (uint64_t{c} + 1) * 0xBF58476D1CE4E5B9ull);
    std::vector<uint32_t> idx(per);
    for (uint32_t i = 0; i < per; ++i) idx[i] = i;
    for (uint32_t i = 0; i < k && i < per; ++i) {
      uint32_t j = i + static_cast<uint32_t>(rng.Below(per - i));
      std::swap(idx[i], idx[j]);
      chosen.push_back(members[idx[i]]);
    }
  }
  std::sort(chosen.begin(), chosen.end());
  if (chosen.empty()) return "byzantine=[]";
  return absl::StrFormat("byzantine=[{replicas: [%s] behaviour: %s}]", absl::StrJoin(chosen, ", "),
                         scenario::Byzantine::Behaviour_Name(b));
}

}  // namespace

namespace {

// One run of the sweep: axis values at `at` (point `point` of the cross product), seed `seed`.
// False on an error that stops the sweep's expansion (in out.errors).
bool AddRun(const scenario::Sweep& sw, const std::vector<size_t>& at, size_t point, uint32_t seed,
            const std::string& path, LoadedSweep& out) {
  SweepRun run;
  run.id = absl::StrFormat("p%03d-s%d", point, seed);
  run.seed = seed;
  run.overrides.assign(sw.set().begin(), sw.set().end());
  double ratio = -1;
  scenario::Byzantine::Behaviour behaviour = scenario::Byzantine::VOTE_AGAINST;
  std::string culprit, position;
  bool matrix = false;
  for (int a = 0; a < sw.axes_size(); ++a) {
    const scenario::Axis& ax = sw.axes(a);
    const std::string& v = ax.values(static_cast<int>(at[a]));
    run.axis_values.push_back({ax.column().empty() ? ax.path() : ax.column(), v});
    if (ax.path() == kCulprit || ax.path() == kPosition) {
      (ax.path() == kCulprit ? culprit : position) = v;
      matrix = true;
    } else if (ax.path() == kFaultRatio) {
      if (!absl::SimpleAtod(v, &ratio) || ratio < 0 || ratio > 1) {
        out.errors.push_back(absl::StrFormat("%s: fault_ratio value '%s' is not a number in [0, 1]", path, v));
        return false;
      }
      behaviour = ax.behaviour();
    } else {
      run.overrides.push_back(absl::StrCat(ax.path(), "=", v));
    }
    for (const std::string& l : ax.linked()) {
      std::vector<std::string> kv = absl::StrSplit(l, absl::MaxSplits('=', 1));
      std::vector<std::string> vals = absl::StrSplit(kv[1], ',');
      run.overrides.push_back(absl::StrCat(kv[0], "=", absl::StripAsciiWhitespace(vals[at[a]])));
    }
  }
  if (matrix) {
    std::string error;
    std::string o = CulpritOverride(culprit, position, &error);
    if (!error.empty()) {
      out.errors.push_back(absl::StrCat(path, ": ", error));
      return false;
    }
    // The culprit is the only thing wrong: the base's own Byzantine replicas and faults go.
    run.overrides.push_back("byzantine=[]");
    run.overrides.push_back("faults=[]");
    run.overrides.push_back(o);
  }
  LoadedScenario loaded = LoadScenario(out.base_path, run.overrides);
  if (loaded.ok() && ratio >= 0) {
    run.overrides.push_back(ByzantineOverride(loaded.scenario, ratio, behaviour, seed));
    loaded = LoadScenario(out.base_path, run.overrides);
  }
  for (const std::string& e : loaded.errors) out.errors.push_back(absl::StrCat("run ", run.id, ": ", e));
  out.runs.push_back(std::move(run));
  return true;
}

}  // namespace

LoadedSweep LoadSweep(const std::string& path) {
  LoadedSweep out;
  if (!ParseTextFile(path, &out.sweep, &out.errors)) return out;
  const scenario::Sweep& sw = out.sweep;
  out.name = sw.name().empty() ? SweepName(path) : sw.name();
  if (sw.base().empty()) {
    out.errors.push_back(path + ":1:1: a sweep needs `base`, the scenario it varies");
    return out;
  }
  out.base_path = sw.base().front() == '/' ? sw.base() : DirOf(path) + "/" + sw.base();
  if (sw.seeds() < 1) out.errors.push_back(path + ": seeds must be >= 1");
  for (int a = 0; a < sw.axes_size(); ++a) {
    const scenario::Axis& ax = sw.axes(a);
    if (ax.path().empty() || ax.values_size() == 0) {
      out.errors.push_back(absl::StrFormat("%s: axes[%d] needs a path and values", path, a));
    }
    for (const std::string& l : ax.linked()) {
      std::vector<std::string> kv = absl::StrSplit(l, absl::MaxSplits('=', 1));
      if (kv.size() != 2 ||
          static_cast<int>(std::vector<std::string>(absl::StrSplit(kv[1], ',')).size()) != ax.values_size()) {
        out.errors.push_back(absl::StrFormat("%s: axes[%d].linked '%s' needs one value per axis value", path, a, l));
      }
    }
  }
  if (!out.ok()) return out;

  // The cross product, first axis slowest; then seeds.
  std::vector<size_t> at(sw.axes_size(), 0);
  size_t point = 0;
  while (true) {
    for (uint32_t seed = 1; seed <= sw.seeds(); ++seed) {
      if (!AddRun(sw, at, point, seed, path, out)) return out;
    }
    ++point;
    int a = sw.axes_size() - 1;
    for (; a >= 0; --a) {
      if (++at[a] < static_cast<size_t>(sw.axes(a).values_size())) break;
      at[a] = 0;
    }
    if (a < 0) break;
  }
  return out;
}

namespace {

// A scalar field as results.csv shows it: whole numbers plain, others with 6 decimals.
std::string ScalarText(const google::protobuf::Message& m, const google::protobuf::FieldDescriptor* f) {
  using FD = google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* r = m.GetReflection();
  switch (f->cpp_type()) {
    case FD::CPPTYPE_STRING:
      return r->GetString(m, f);
    case FD::CPPTYPE_BOOL:
      return r->GetBool(m, f) ? "true" : "false";
    case FD::CPPTYPE_UINT32:
      return absl::StrCat(r->GetUInt32(m, f));
    case FD::CPPTYPE_UINT64:
      return absl::StrCat(r->GetUInt64(m, f));
    case FD::CPPTYPE_DOUBLE: {
      const double v = r->GetDouble(m, f);
      // (Counters are doubles in the schema: whole numbers print as integers.)
      return v == std::floor(v) && std::fabs(v) < 9e15 ? absl::StrFormat("%.0f", v) : absl::StrFormat("%.6f", v);
    }
    default:
      return "";
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> SummaryScalars(const std::string& json) {
  std::vector<std::pair<std::string, std::string>> out;
  output::Summary summary;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a summary from a newer build still gives what it can
  if (!google::protobuf::util::JsonStringToMessage(json, &summary, options).ok()) return out;
  const google::protobuf::Descriptor* d = output::Summary::descriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (f->is_repeated()) continue;  // barred: not a scalar
    if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      // A nested object of scalars, flattened: latency_ms_p50, message_mix_PREPARE, ...
      const google::protobuf::Message& sub = summary.GetReflection()->GetMessage(summary, f);
      const google::protobuf::Descriptor* sd = sub.GetDescriptor();
      for (int j = 0; j < sd->field_count(); ++j) {
        out.push_back({absl::StrCat(f->json_name(), "_", sd->field(j)->json_name()), ScalarText(sub, sd->field(j))});
      }
      continue;
    }
    out.push_back({f->json_name(), ScalarText(summary, f)});
  }
  return out;
}

std::string ResultsCsv(const LoadedSweep& sweep, const std::string& out_dir, size_t* done) {
  std::vector<std::string> header = {"run"};
  for (const auto& [column, v] :
       sweep.runs.empty() ? std::vector<std::pair<std::string, std::string>>{} : sweep.runs.front().axis_values) {
    header.push_back(column);
  }
  header.push_back("seed");
  std::vector<std::string> keys;
  std::vector<std::string> rows;
  *done = 0;
  for (const SweepRun& run : sweep.runs) {
    std::ifstream in(out_dir + "/" + run.id + "/summary.json");
    if (!in) continue;
    std::stringstream buf;
    buf << in.rdbuf();
    auto scalars = SummaryScalars(buf.str());
    if (keys.empty()) {
      // (A summary field an axis already names, e.g. protocol or clusters, is not repeated.)
      for (const auto& [k, v] : scalars) {
        const std::string& key = k;  // (a structured binding cannot be captured before clang 16)
        bool axis =
            std::any_of(run.axis_values.begin(), run.axis_values.end(), [&](const auto& a) { return a.first == key; });
        if (k != "seed" && !axis) keys.push_back(k);
      }
    }
    std::vector<std::string> row = {run.id};
    for (const auto& [c, v] : run.axis_values) row.push_back(v);
    row.push_back(absl::StrCat(run.seed));
    for (const std::string& k : keys) {
      auto it = std::find_if(scalars.begin(), scalars.end(), [&](const auto& kv) { return kv.first == k; });
      row.push_back(it == scalars.end() ? "" : it->second);
    }
    for (std::string& cell : row) {
      if (cell.find_first_of(",\"") != std::string::npos)
        cell = absl::StrCat("\"", absl::StrReplaceAll(cell, {{"\"", "\"\""}}), "\"");
    }
    rows.push_back(absl::StrJoin(row, ","));
    ++*done;
  }
  for (const std::string& k : keys) header.push_back(k);
  std::string csv = absl::StrJoin(header, ",") + "\n";
  for (const std::string& r : rows) absl::StrAppend(&csv, r, "\n");
  return csv;
}

}  // namespace geopbft
