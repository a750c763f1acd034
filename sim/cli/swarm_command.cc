// geopbft swarm [--seeds=N] [--first-seed=S] [--protocol=all|pbft|geobft|reputation] [--out=DIR]
//               [--safety-only] [--jobs=N] [--digests] [--keep-scenarios]
// Each seed draws a scenario (sim/swarm.h) and runs it with every checker on. Seeds are split over
// worker processes (default: one per core); a failure prints its seed and the reason and writes
// DIR/seed-<N>.textproto, which `geopbft run` replays exactly. --digests prints every seed's trace
// digest (two invocations must print the same lines: the determinism audit). Exit 0 when every seed
// passed, 1 when one failed, 2 on bad arguments.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sim/cli/commands.h"
#include "sim/cli/help.h"
#include "sim/cli/interrupt.h"
#include "sim/run_outputs.h"
#include "sim/scenario_loader.h"
#include "sim/swarm.h"

namespace geopbft::cli {
namespace {

struct SwarmArgs {
  uint64_t seeds = 100;
  uint64_t first = 1;
  std::string out = "out/swarm";
  long jobs = 0;
  bool digests = false;
  bool keep = false;  // write every seed's scenario, not only the failures'
  SwarmOptions options;
};

bool ParseSwarmArgs(const std::vector<std::string>& args, SwarmArgs* a) {
  for (const std::string& arg : args) {
    auto value = [&](absl::string_view flag) { return absl::string_view(arg).substr(flag.size()); };
    if (absl::StartsWith(arg, "--seeds=") && absl::SimpleAtoi(value("--seeds="), &a->seeds) && a->seeds > 0) continue;
    if (absl::StartsWith(arg, "--first-seed=") && absl::SimpleAtoi(value("--first-seed="), &a->first)) continue;
    if (absl::StartsWith(arg, "--jobs=") && absl::SimpleAtoi(value("--jobs="), &a->jobs) && a->jobs > 0) continue;
    if (absl::StartsWith(arg, "--out=") && !value("--out=").empty()) {
      a->out = std::string(value("--out="));
      continue;
    }
    if (arg == "--safety-only") {
      a->options.safety_only = true;
      continue;
    }
    if (arg == "--digests") {
      a->digests = true;
      continue;
    }
    if (arg == "--keep-scenarios") {
      a->keep = true;
      continue;
    }
    if (arg == "--plant-bug=quorum-2f") {  // test only: shows that the swarm finds a real bug
      a->options.planted_bug = scenario::Checks::QUORUM_2F;
      continue;
    }
    if (absl::StartsWith(arg, "--protocol=")) {
      bool ok = true;
      for (absl::string_view p : absl::StrSplit(value("--protocol="), ',')) {
        if (p == "pbft")
          a->options.protocols.push_back(scenario::Protocol::PBFT);
        else if (p == "geobft")
          a->options.protocols.push_back(scenario::Protocol::GEOBFT);
        else if (p == "reputation")
          a->options.protocols.push_back(scenario::Protocol::GEOBFT_REPUTATION);
        else if (p != "all")
          ok = false;
      }
      if (ok) continue;
    }
    std::fprintf(stderr,
                 "geopbft swarm: bad argument '%s'%s\nusage: geopbft swarm [--seeds=N] [--first-seed=S] "
                 "[--protocol=all|pbft|geobft|reputation] [--out=DIR] [--safety-only] [--jobs=N] [--digests]\n"
                 "       [--keep-scenarios]\n",
                 arg.c_str(), absl::StartsWith(arg, "-") ? OptionHint("swarm", arg).c_str() : "");
    return false;
  }
  return true;
}

// One worker: seeds first + k, first + k + jobs, ...; one line per seed into `path`:
// "<seed> ok|FAIL <digest> <events> <reason>".
void RunWorker(const SwarmArgs& a, long k, long jobs, const std::string& path) {
  std::string lines;
  for (uint64_t i = static_cast<uint64_t>(k); i < a.seeds && !Interrupted(); i += static_cast<uint64_t>(jobs)) {
    const uint64_t seed = a.first + i;
    scenario::Scenario s = DrawSwarmScenario(seed, a.options);
    SwarmVerdict v = RunSwarmScenario(s, a.options);
    if (!v.ok || a.keep) {
      std::string text =
          absl::StrCat("# Swarm seed ", seed, ": ", v.ok ? "passed" : v.failure, "\n# Replay: ./geopbft run ", a.out,
                       "/seed-", seed, ".textproto\n", ScenarioToText(s));
      WriteFileAtomic(absl::StrCat(a.out, "/seed-", seed, ".textproto"), text).IgnoreError();
    }
    absl::StrAppend(&lines, seed, v.ok ? " ok " : " FAIL ", v.digest, " ", v.events, " ", v.failure, "\n");
  }
  WriteFileAtomic(path, lines).IgnoreError();
}

}  // namespace

int SwarmCommand(const std::vector<std::string>& args) {
  SwarmArgs a;
  if (!ParseSwarmArgs(args, &a)) return 2;
  if (absl::Status st = MakeDirs(a.out); !st.ok()) {
    std::fprintf(stderr, "geopbft swarm: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  long jobs = a.jobs > 0 ? a.jobs : std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  jobs = std::min<long>(jobs, static_cast<long>(a.seeds));
  CatchInterrupts();
  std::vector<pid_t> workers;
  for (long k = 0; k < jobs; ++k) {
    pid_t pid = fork();
    if (pid == 0) {
      RunWorker(a, k, jobs, absl::StrCat(a.out, "/.worker-", k));
      _exit(0);
    }
    if (pid < 0) {
      std::fprintf(stderr, "geopbft swarm: cannot start a worker\n");
      return 2;
    }
    workers.push_back(pid);
  }
  bool worker_failed = false;
  for (pid_t w : workers) {
    int status = 0;
    while (waitpid(w, &status, 0) < 0 && errno == EINTR) {
    }
    worker_failed = worker_failed || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  // Gather the workers' lines in seed order.
  std::vector<std::pair<uint64_t, std::string>> results;
  for (long k = 0; k < jobs; ++k) {
    const std::string path = absl::StrCat(a.out, "/.worker-", k);
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      uint64_t seed = 0;
      if (absl::SimpleAtoi(line.substr(0, line.find(' ')), &seed)) results.push_back({seed, line});
    }
    std::remove(path.c_str());
  }
  std::sort(results.begin(), results.end());
  uint64_t failures = 0;
  for (const auto& [seed, line] : results) {
    const bool failed = line.find(" FAIL ") != std::string::npos;
    failures += failed ? 1 : 0;
    if (a.digests || failed) std::printf("%s\n", line.c_str());
    if (failed)
      std::printf("  replay: geopbft run %s/seed-%llu.textproto\n", a.out.c_str(),
                  static_cast<unsigned long long>(seed));
  }
  std::printf("swarm: %zu of %llu seeds run (%llu..%llu), %llu failed%s\n", results.size(),
              static_cast<unsigned long long>(a.seeds), static_cast<unsigned long long>(a.first),
              static_cast<unsigned long long>(a.first + a.seeds - 1), static_cast<unsigned long long>(failures),
              a.options.safety_only ? " (safety only)" : "");
  if (Interrupted()) return 128 + Interrupted();
  if (worker_failed || results.size() != a.seeds) {
    std::fprintf(stderr, "geopbft swarm: a worker died (results incomplete)\n");
    return 1;
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace geopbft::cli
