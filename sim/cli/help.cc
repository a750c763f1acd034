#include "sim/cli/help.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "sim/cli/version.h"
#include "sim/suggest.h"

namespace geopbft::cli {
namespace {

constexpr char kExitCodes[] =
    "exit codes:\n"
    "  0  done (run: every checker passed)\n"
    "  1  a checker failed: safety violation, stall, broken bound (run); a failing seed (swarm); a\n"
    "     run failed or missing (sweep)\n"
    "  2  bad input: unknown option, malformed scenario (file:line:col: what is wrong), missing file;\n"
    "     nothing is written\n"
    "  128+signal  interrupted (130: Ctrl-C); a partial run writes nothing\n";

struct Command {
  const char* name;
  const char* usage;
  const char* what;
  const char* options;                // one per line, aligned
  std::vector<std::string> switches;  // for "did you mean" (the part before '=')
};

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"run",
       "geopbft run [SCENARIO] [OPTIONS]",
       "Runs one scenario (default: scenarios/default.textproto) and writes its outputs to a directory:\n"
       "summary.json, timeseries.csv, latency.csv, replicas.csv, reputation.csv, events.csv, the effective\n"
       "scenario.textproto (replays exactly) and, through the ./geopbft wrapper, figures and report.html.",
       "  --seed=N              the run's seed (overrides the scenario's)\n"
       "  --set=PATH=VALUE      override one scenario field, e.g. --set=topology.clusters=6,\n"
       "                        --set=protocol.kind=PBFT, --set=network.loss_ratio=0.02 (repeatable)\n"
       "  --out=DIR             output directory (default: out/<scenario name>)\n"
       "  --trace[=FILTER]      also write trace.log (trace-event JSON, one event per line: Perfetto and\n"
       "                        chrome://tracing load it) and signed.log (for audit). FILTER keeps the\n"
       "                        file small: replicas:A-B, from:TIME, to:TIME (TIME in s, ms or us),\n"
       "                        e.g. --trace=replicas:0-3,from:2s,to:4s\n"
       "  --crypto=real|fast    Ed25519/HMAC through OpenSSL, or keyed tags (same results, faster)\n"
       "  --no-plot             skip the figures (the wrapper draws them after a run)\n",
       {"--seed", "--set", "--out", "--trace", "--crypto", "--no-plot", "--help"}},
      {"validate",
       "geopbft validate SCENARIO...",
       "Checks scenario files without running them: syntax, field names and values, topology and fault\n"
       "consistency. Prints 'ok' per file, or file:line:col: what is wrong.",
       "",
       {"--help"}},
      {"sweep",
       "geopbft sweep SWEEP [OPTIONS]",
       "Runs every combination of a sweep file's axes (and seeds) as separate runs, in parallel worker\n"
       "processes, then collects results.csv (one row per run). Resumes: runs already done are kept.",
       "  --jobs=N              worker processes (default: one per core)\n"
       "  --out=DIR             output directory (default: out/<sweep name>)\n"
       "  --emit-jobs=FILE      write one command line per run instead of running (GNU parallel, Slurm)\n"
       "  --collect             only gather the finished runs into results.csv\n"
       "  --slurm[=OPTIONS]     submit the missing runs as one Slurm job array (sbatch OPTIONS, e.g.\n"
       "                        --slurm='--partition=short --time=60'; with --wait, collect when done)\n"
       "  --slurm-tasks=N       array tasks at most (default 256): each task runs a slice of the runs\n",
       {"--jobs", "--out", "--emit-jobs", "--collect", "--slurm", "--slurm-tasks", "--help"}},
      {"swarm",
       "geopbft swarm [OPTIONS]",
       "Draws random scenarios (topology, faults, Byzantine behaviours, network) from consecutive seeds\n"
       "and runs each with every checker on. A failing seed is printed with its reason and written as\n"
       "DIR/seed-<N>.textproto, which `geopbft run` replays exactly.",
       "  --seeds=N             how many seeds (default 100)\n"
       "  --first-seed=S        the first seed (default 1)\n"
       "  --protocol=LIST       all, or a comma-separated list of pbft, geobft, reputation\n"
       "  --out=DIR             where failing scenarios go (default out/swarm)\n"
       "  --jobs=N              worker processes (default: one per core)\n"
       "  --safety-only         liveness failures do not count\n"
       "  --digests             print every seed's trace digest (the determinism audit)\n"
       "  --keep-scenarios      write every seed's scenario, not only the failing ones\n",
       {"--seeds", "--first-seed", "--protocol", "--out", "--jobs", "--safety-only", "--digests", "--keep-scenarios",
        "--help"}},
      {"audit",
       "geopbft audit DIR",
       "Reads the signed messages of a `geopbft run --trace` output directory (signed.log) and reports\n"
       "every proven misbehaviour: two conflicting signed messages of one replica for one slot.",
       "",
       {"--help"}},
      {"plot",
       "./geopbft plot DIR",
       "Draws the figures (PNG) and report.html of a run or sweep output directory, with Debian's\n"
       "matplotlib (through the ./geopbft wrapper, which installs it).",
       "",
       {"--help"}},
      {"test",
       "./geopbft test [--sanitize] [CTEST OPTIONS]",
       "Builds, then runs the whole test suite through ctest (unit tests, pinned digests of every shipped\n"
       "scenario, the swarm's seeds, benchmarks' smoke runs, fuzz targets). --sanitize: the same suite\n"
       "built with AddressSanitizer and UndefinedBehaviorSanitizer in build/sanitize.",
       "  --sanitize            build and test with ASan + UBSan\n"
       "  -R REGEX              only the tests whose name matches (any ctest option works)\n",
       {"--sanitize", "--help"}},
  };
  return commands;
}

const Command* Find(const std::string& name) {
  for (const Command& c : Commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

}  // namespace

std::string Overview() {
  std::string out = absl::StrCat(VersionLine(), "\n\nusage: geopbft COMMAND [ARGS]   (./geopbft builds first)\n\n");
  for (const Command& c : Commands()) absl::StrAppend(&out, "  ", c.usage, "\n");
  absl::StrAppend(&out,
                  "\n`geopbft COMMAND --help` explains a command and its options; `geopbft --version` prints the\n"
                  "version. Without a command, geopbft runs the default scenario.\n\n",
                  kExitCodes);
  return out;
}

std::string CommandHelp(const std::string& command) {
  const Command* c = Find(command);
  if (c == nullptr) return "";
  std::string out = absl::StrCat("usage: ", c->usage, "\n\n", c->what, "\n");
  if (*c->options) absl::StrAppend(&out, "\noptions:\n", c->options);
  absl::StrAppend(&out, "  --help, -h            this help\n\n", kExitCodes);
  return out;
}

bool AsksForHelp(const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; });
}

std::string VersionLine() { return absl::StrCat("geopbft ", kVersion, " (commit ", kGitCommit, ")"); }

std::string OptionHint(const std::string& command, const std::string& option) {
  const Command* c = Find(command);
  if (c == nullptr) return "";
  const std::string typed = option.substr(0, option.find('='));
  const std::string see = absl::StrCat(" (see geopbft ", command, " --help)");
  // A known option with a bad value: nothing to propose but the help.
  if (std::find(c->switches.begin(), c->switches.end(), typed) != c->switches.end()) return see;
  std::string hint = DidYouMean(typed, c->switches);
  return hint.empty() ? see : hint;
}

std::string CommandHint(const std::string& typed) {
  std::vector<std::string> names;
  for (const Command& c : Commands()) names.push_back(c.name);
  return DidYouMean(typed, names);
}

}  // namespace geopbft::cli
