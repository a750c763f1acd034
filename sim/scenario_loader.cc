#include "sim/scenario_loader.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "protocol/quorum.h"
#include "sim/region_catalog.h"
#include "sim/scenario_validator.h"
#include "sim/suggest.h"

namespace geopbft {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Reflection;
using google::protobuf::TextFormat;

class Collector : public google::protobuf::io::ErrorCollector {
 public:
  Collector(const std::string& path, std::vector<std::string>* out, absl::string_view text = {})
      : path_(path), out_(out), lines_(absl::StrSplit(text, '\n')) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    // The first syntax error is the one to fix; what the parser says after it (binary data gives a
    // cascade) is noise.
    if (reported_) return;
    reported_ = true;
    // The parser reports an unknown field after its name; point at the name itself.
    static const std::string kMarker = "has no field named \"";
    if (size_t at = message.find(kMarker);
        at != std::string::npos && line >= 0 && static_cast<size_t>(line) < lines_.size()) {
      std::string name = message.substr(at + kMarker.size());
      name = name.substr(0, name.find('"'));
      size_t pos = lines_[line].rfind(name, static_cast<size_t>(column));
      if (!name.empty() && pos != absl::string_view::npos) column = static_cast<int>(pos);
    }
    const std::string hint = Suggestion(message);
    absl::string_view said = message;
    if (!hint.empty()) absl::ConsumeSuffix(&said, ".");
    out_->push_back(absl::StrFormat("%s:%d:%d: %s%s", path_, line + 1, column + 1, said, hint));
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    AddError(line, column, message);  // warnings (e.g. deprecated syntax) are problems too
  }

 private:
  // The parser names the message type and the unknown field: propose the type's closest fields.
  static std::string Suggestion(const std::string& message) {
    static const std::string kType = "Message type \"", kField = "has no field named \"";
    size_t t = message.find(kType), f = message.find(kField);
    if (t == std::string::npos || f == std::string::npos) return "";
    t += kType.size();
    f += kField.size();
    const std::string type = message.substr(t, message.find('"', t) - t);
    const std::string field = message.substr(f, message.find('"', f) - f);
    const Descriptor* d = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type);
    return d == nullptr ? "" : DidYouMean(field, FieldNames(*d));
  }
  std::string path_;
  std::vector<std::string>* out_;
  std::vector<absl::string_view> lines_;
  bool reported_ = false;
};

std::string Basename(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  for (const char* suffix : {".textproto", ".txtpb", ".pbtxt"}) {
    if (absl::EndsWith(name, suffix)) return name.substr(0, name.size() - absl::string_view(suffix).size());
  }
  return name;
}

// Sets the last field of a --set path: the value is parsed with the text-format parser, so enums,
// numbers, booleans, nested messages ({...}) and lists ([a, b]) all work as in a scenario file.
absl::Status SetField(google::protobuf::Message* msg, const FieldDescriptor* field, absl::string_view value) {
  std::string text(value);
  if (field->type() == FieldDescriptor::TYPE_STRING) {
    absl::string_view v = absl::StripAsciiWhitespace(value);
    bool quoted = v.size() >= 2 && (v.front() == '"' || v.front() == '\'');
    bool list = field->is_repeated() && !v.empty() && v.front() == '[';
    if (!quoted && !list) text = absl::StrCat("\"", absl::CEscape(v), "\"");
  }
  std::unique_ptr<google::protobuf::Message> scratch(msg->New());
  std::vector<std::string> errors;
  Collector collector("--set", &errors);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  std::string field_text =
      absl::StrCat(field->name(), field->type() == FieldDescriptor::TYPE_MESSAGE ? " " : ": ", text);
  if (!parser.ParseFromString(field_text, scratch.get())) {
    std::string hint;
    if (field->type() == FieldDescriptor::TYPE_ENUM) {
      const std::vector<std::string> names = EnumValueNames(*field->enum_type());
      hint = DidYouMean(absl::StripAsciiWhitespace(value), names);
      if (hint.empty()) hint = absl::StrCat("; one of ", absl::StrJoin(names, ", "));
    }
    absl::string_view said = errors.empty() ? "" : absl::string_view(errors.front());
    if (!hint.empty()) absl::ConsumeSuffix(&said, ".");
    return absl::InvalidArgumentError(absl::StrCat("cannot parse value '", value, "' for ", field->full_name(),
                                                   said.empty() ? "" : ": ", said, hint));
  }
  msg->GetReflection()->ClearField(msg, field);
  msg->MergeFrom(*scratch);
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyOverride(scenario::Scenario& s, absl::string_view assignment) {
  size_t eq = assignment.find('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError("expected path=value, e.g. topology.replicas_per_cluster=10");
  }
  absl::string_view path = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  google::protobuf::Message* msg = &s;
  std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    absl::string_view part = parts[i];
    int index = -1;
    if (size_t bracket = part.find('['); bracket != absl::string_view::npos) {
      if (part.back() != ']' || !absl::SimpleAtoi(part.substr(bracket + 1, part.size() - bracket - 2), &index) ||
          index < 0) {
        return absl::InvalidArgumentError(absl::StrCat("bad index in '", part, "'"));
      }
      part = part.substr(0, bracket);
    }
    const Descriptor* desc = msg->GetDescriptor();
    const Reflection* refl = msg->GetReflection();
    const FieldDescriptor* field = desc->FindFieldByName(std::string(part));
    if (field == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown field '", part, "' in ", desc->full_name(), DidYouMean(part, FieldNames(*desc))));
    }
    if (index >= 0 && !field->is_repeated()) {
      return absl::InvalidArgumentError(absl::StrCat("'", part, "' is not a repeated field"));
    }
    bool last = i + 1 == parts.size();
    if (!last) {
      if (field->type() != FieldDescriptor::TYPE_MESSAGE) {
        return absl::InvalidArgumentError(absl::StrCat("'", part, "' is not a message; cannot descend into it"));
      }
      if (field->is_repeated()) {
        if (index < 0) return absl::InvalidArgumentError(absl::StrCat("'", part, "' is repeated: give an index"));
        int size = refl->FieldSize(*msg, field);
        if (index > size) {
          return absl::InvalidArgumentError(
              absl::StrFormat("index %d out of range for '%s' (size %d)", index, part, size));
        }
        msg = index == size ? refl->AddMessage(msg, field) : refl->MutableRepeatedMessage(msg, field, index);
      } else {
        msg = refl->MutableMessage(msg, field);
      }
      continue;
    }
    if (index >= 0) {
      return absl::InvalidArgumentError("set a repeated field as a whole: path=[v1, v2]");
    }
    return SetField(msg, field, value);
  }
  return absl::InvalidArgumentError("empty path");
}

namespace {

// `from_file`: an empty file is refused (see below); in-memory text may rely on the defaults.
LoadedScenario Load(absl::string_view text, const std::string& path, const std::vector<std::string>& overrides,
                    bool from_file) {
  LoadedScenario out;
  Collector collector(path, &out.errors, text);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  TextFormat::ParseInfoTree tree;
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(std::string(text), &out.scenario)) {
    if (out.errors.empty()) out.errors.push_back(path + ":1:1: cannot parse scenario");
    return out;
  }
  if (from_file && out.scenario.ByteSizeLong() == 0) {
    // Every field has a default, so an empty file would run; it is far more often a mistake (a
    // file truncated to nothing, the wrong path) than a wish for all the defaults.
    out.errors.push_back(path + ":1:1: the scenario sets nothing (empty file?); set at least its name");
    return out;
  }
  for (const std::string& o : overrides) {
    absl::Status st = ApplyOverride(out.scenario, o);
    if (!st.ok()) out.errors.push_back(absl::StrCat("--set=", o, ": ", st.message()));
  }
  if (!out.ok()) return out;
  if (out.scenario.name().empty()) out.scenario.set_name(Basename(path));
  ValidateScenario(out.scenario, path, &tree, &out.errors);
  return out;
}

}  // namespace

LoadedScenario LoadScenarioText(absl::string_view text, const std::string& path,
                                const std::vector<std::string>& overrides) {
  return Load(text, path, overrides, /*from_file=*/false);
}

namespace {

// Scenario and sweep files are written by hand: anything this large is a wrong path (a trace, a
// binary), and reading it whole would only waste memory before the inevitable parse error.
constexpr std::uintmax_t kMaxTextFileBytes = 16u << 20;

// Reads a text file whole, or explains (located at 1:1) why not.
bool ReadTextFile(const std::string& path, std::string* text, std::string* error) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    *error = path + ":1:1: is a directory, not a file";
    return false;
  }
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxTextFileBytes) {
    *error = absl::StrFormat("%s:1:1: file is %.1f MiB; scenario and sweep files are limited to %d MiB", path,
                             static_cast<double>(size) / (1 << 20), static_cast<int>(kMaxTextFileBytes >> 20));
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ":1:1: cannot open file";
    return false;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  *text = buf.str();
  return true;
}

}  // namespace

bool ParseTextFile(const std::string& path, google::protobuf::Message* msg, std::vector<std::string>* errors) {
  std::string text, error;
  if (!ReadTextFile(path, &text, &error)) {
    errors->push_back(error);
    return false;
  }
  Collector collector(path, errors, text);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  if (!parser.ParseFromString(text, msg)) {
    if (errors->empty()) errors->push_back(path + ":1:1: cannot parse");
    return false;
  }
  return true;
}

LoadedScenario LoadScenario(const std::string& path, const std::vector<std::string>& overrides) {
  std::string text, error;
  if (!ReadTextFile(path, &text, &error)) {
    LoadedScenario out;
    out.errors.push_back(error);
    return out;
  }
  return Load(text, path, overrides, /*from_file=*/true);
}

std::string ScenarioToText(const scenario::Scenario& s) {
  std::string text;
  TextFormat::Printer printer;
  printer.PrintToString(s, &text);
  return text;
}

}  // namespace geopbft
