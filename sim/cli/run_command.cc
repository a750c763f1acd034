// `geopbft run` and `geopbft validate`.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/cli/commands.h"
#include "sim/cli/help.h"
#include "sim/cli/interrupt.h"
#include "sim/run_outputs.h"
#include "sim/scenario_loader.h"
#include "sim/simulation.h"

namespace geopbft::cli {
namespace {

struct RunArgs {
  std::string scenario;
  std::string out;
  std::vector<std::string> overrides;
  bool trace = false;
  TraceFilter trace_filter;  // --trace=FILTER
  bool plot = true;          // --no-plot: skip the figures (sweeps' worker runs)
  std::string crypto;        // "" = the scenario's
};

// After a run: the figures and report.html through analysis/plot.py, when the project's analysis
// directory ($GEOPBFT_HOME, set by the ./geopbft wrapper) and Debian's matplotlib are there.
void MaybePlot(const std::string& out_dir) {
  const char* home = std::getenv("GEOPBFT_HOME");
  if (home == nullptr) return;
  std::string script = absl::StrCat(home, "/analysis/plot.py");
  if (access(script.c_str(), R_OK) != 0 || access("/usr/bin/python3", X_OK) != 0) return;
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, STDOUT_FILENO), dup2(null, STDERR_FILENO);
    execl("/usr/bin/python3", "python3", script.c_str(), out_dir.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    std::printf("  figures and report: %s/report.html\n", out_dir.c_str());
  }
}

bool FlagValue(const std::string& arg, const char* name, std::string* value) {
  std::string prefix = absl::StrCat(name, "=");
  if (!absl::StartsWith(arg, prefix)) return false;
  *value = arg.substr(prefix.size());
  return true;
}

// Parses run's arguments; prints a message and returns false on anything unknown.
bool ParseRunArgs(const std::vector<std::string>& args, RunArgs* out) {
  for (const std::string& a : args) {
    std::string v;
    if (FlagValue(a, "--seed", &v)) {
      uint64_t seed;
      if (!absl::SimpleAtoi(v, &seed)) {
        std::fprintf(stderr, "geopbft run: --seed needs a non-negative integer, got '%s'\n", v.c_str());
        return false;
      }
      out->overrides.push_back(absl::StrCat("seed=", seed));
    } else if (FlagValue(a, "--out", &v)) {
      out->out = v;
    } else if (FlagValue(a, "--set", &v)) {
      out->overrides.push_back(v);
    } else if (FlagValue(a, "--crypto", &v)) {
      if (v != "real" && v != "fast") {
        std::fprintf(stderr, "geopbft run: --crypto must be real or fast, got '%s'\n", v.c_str());
        return false;
      }
      out->crypto = v;
    } else if (a == "--trace") {
      out->trace = true;
    } else if (FlagValue(a, "--trace", &v)) {
      out->trace = true;
      std::string error;
      if (!ParseTraceFilter(v, &out->trace_filter, &error)) {
        std::fprintf(stderr, "geopbft run: %s\n", error.c_str());
        return false;
      }
    } else if (a == "--no-plot") {
      out->plot = false;
    } else if (absl::StartsWith(a, "-")) {
      std::fprintf(stderr, "geopbft run: unknown option '%s'%s\n", a.c_str(), OptionHint("run", a).c_str());
      return false;
    } else if (out->scenario.empty()) {
      out->scenario = a;
    } else {
      std::fprintf(stderr, "geopbft run: one scenario at a time (got '%s' and '%s')\n", out->scenario.c_str(),
                   a.c_str());
      return false;
    }
  }
  return true;
}

class ProgressBar {
 public:
  ProgressBar() : enabled_(isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()) {}
  void operator()(double fraction) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (fraction < 1.0 && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    int width = 40, filled = static_cast<int>(fraction * width);
    double secs = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\r[%s%s] %3d%% %.1fs", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), static_cast<int>(fraction * 100), secs);
    if (fraction >= 1.0) std::fputs("\n", stderr);
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace

std::string DefaultScenarioPath() {
  const char* home = std::getenv("GEOPBFT_HOME");
  std::string base = home && *home ? std::string(home) + "/" : "";
  return base + "scenarios/default.textproto";
}

// trace.log and signed.log of a --trace run, written under temporary names and renamed into place
// with the other outputs (an interrupted or failed run leaves none behind).
struct TraceFiles {
  std::string trace_tmp, sent_tmp;
  std::FILE* trace = nullptr;
  std::FILE* sent = nullptr;

  bool Open(const std::string& out_dir) {
    trace_tmp = absl::StrCat(out_dir, "/trace.log.tmp.", getpid());
    sent_tmp = absl::StrCat(out_dir, "/signed.log.tmp.", getpid());
    trace = std::fopen(trace_tmp.c_str(), "wb");
    sent = trace ? std::fopen(sent_tmp.c_str(), "wb") : nullptr;
    if (trace && sent) return true;
    std::fprintf(stderr, "geopbft run: cannot write %s\n", trace ? sent_tmp.c_str() : trace_tmp.c_str());
    if (trace) std::fclose(trace), std::remove(trace_tmp.c_str());
    trace = nullptr;
    return false;
  }
  void Discard() {
    if (trace) std::fclose(trace), std::fclose(sent);
    trace = sent = nullptr;
    if (!trace_tmp.empty()) std::remove(trace_tmp.c_str()), std::remove(sent_tmp.c_str());
  }
  // Moves them into place (or removes a stale trace of an earlier run when there is none).
  bool Commit(const std::string& out_dir) {
    if (!trace) {
      std::remove((out_dir + "/trace.log").c_str());  // a stale trace would not match this run
      std::remove((out_dir + "/signed.log").c_str());
      return true;
    }
    bool ok = std::fclose(trace) == 0 && std::rename(trace_tmp.c_str(), (out_dir + "/trace.log").c_str()) == 0;
    ok = std::fclose(sent) == 0 && ok && std::rename(sent_tmp.c_str(), (out_dir + "/signed.log").c_str()) == 0;
    trace = sent = nullptr;
    return ok;
  }
};

// Every output file of a finished run, each written atomically, summary.json last (its presence
// means the run's outputs are complete). False (and a message) when one cannot be written.
bool WriteOutputs(const scenario::Scenario& sc, const Simulation& sim, const WallStats& wall,
                  const std::string& out_dir, TraceFiles& traces) {
  struct File {
    std::string name, content;
  };
  std::vector<File> files = {
      {"scenario.textproto", ScenarioToText(sc)}, {"timeseries.csv", TimeseriesCsv(sim)},
      {"replicas.csv", ReplicasCsv(sim)},         {"events.csv", EventsCsv(sim)},
      {"clusters.csv", ClustersCsv(sim)},
  };
  if (sim.reputation()) files.push_back({"reputation.csv", ReputationCsv(sim)});
  if (sim.stalled()) files.push_back({"stall.txt", sim.stall_report()});
  files.push_back({"summary.json", SummaryJson(sim, wall)});
  bool ok = traces.Commit(out_dir);
  if (!sim.stalled()) std::remove((out_dir + "/stall.txt").c_str());
  if (!sim.reputation()) std::remove((out_dir + "/reputation.csv").c_str());
  std::remove((out_dir + "/summary.json").c_str());
  for (const File& f : files) {
    absl::Status st = WriteFileAtomic(out_dir + "/" + f.name, f.content);
    if (!st.ok()) {
      std::fprintf(stderr, "geopbft run: %s\n", std::string(st.message()).c_str());
      return false;
    }
  }
  return ok;
}

int RunCommand(const std::vector<std::string>& args) {
  RunArgs ra;
  if (!ParseRunArgs(args, &ra)) return 2;
  if (ra.scenario.empty()) ra.scenario = DefaultScenarioPath();
  LoadedScenario loaded = LoadScenario(ra.scenario, ra.overrides);
  if (!loaded.ok()) {
    for (const std::string& e : loaded.errors) std::fprintf(stderr, "%s\n", e.c_str());
    return 2;
  }
  scenario::Scenario& sc = loaded.scenario;
  CryptoMode crypto = sc.crypto().mode() == scenario::Crypto::REAL ? CryptoMode::kReal : CryptoMode::kFast;
  if (!ra.crypto.empty()) crypto = ra.crypto == "real" ? CryptoMode::kReal : CryptoMode::kFast;
  // The effective mode goes into scenario.textproto: `audit` re-derives the run's keys from it.
  sc.mutable_crypto()->set_mode(crypto == CryptoMode::kReal ? scenario::Crypto::REAL : scenario::Crypto::FAST);
  // The effective scenario names its seed explicitly, so replaying it needs no flags.
  sc.set_seed(sc.seed());
  std::string out_dir = ra.out.empty() ? absl::StrCat("out/", sc.name()) : ra.out;
  const bool created_out_dir = access(out_dir.c_str(), F_OK) != 0;
  if (absl::Status st = MakeDirs(out_dir); !st.ok()) {
    std::fprintf(stderr, "geopbft run: %s\n", std::string(st.message()).c_str());
    return 2;
  }

  TraceFiles traces;
  if (ra.trace && !traces.Open(out_dir)) return 2;

  auto wall_start = std::chrono::steady_clock::now();
  // Never destroyed: the process ends right after the outputs are written, and tearing down every
  // message, log entry and table one by one cost a tenth of a default run's time. (Reachable from
  // a static, so leak checkers do not report it.)
  static Simulation* run = nullptr;
  run = new Simulation(sc, crypto, traces.trace);
  Simulation& sim = *run;
  sim.RecordSentMessages(traces.sent);
  sim.FilterTrace(ra.trace_filter);
  ProgressBar bar;
  CatchInterrupts();
  sim.Run([&bar, &sim](double f) {
    if (Interrupted()) sim.Interrupt();
    bar(f);
  });
  if (sim.interrupted()) {
    // Nothing of a partial run is written; earlier outputs in the directory stay as they were.
    traces.Discard();
    if (created_out_dir) rmdir(out_dir.c_str());  // only if still empty
    std::fprintf(stderr, "\ngeopbft run: interrupted; nothing written to %s\n", out_dir.c_str());
    return 128 + Interrupted();
  }
  WallStats wall;
  wall.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  if (struct rusage usage{}; getrusage(RUSAGE_SELF, &usage) == 0) wall.max_rss_mb = usage.ru_maxrss / 1024.0;  // KiB

  if (!WriteOutputs(sc, sim, wall, out_dir, traces)) {
    traces.Discard();
    return 2;
  }
  std::fputs(HumanSummary(sim, wall, out_dir).c_str(), stdout);
  std::fflush(stdout);
  if (ra.plot) MaybePlot(out_dir);
  if (sim.safety_violations() > 0) return 1;
  if (sim.stalled() && sc.checks().expect_liveness()) return 1;
  return 0;
}

int ValidateCommand(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fprintf(stderr, "usage: geopbft validate SCENARIO...\n");
    return 2;
  }
  int status = 0;
  for (const std::string& path : args) {
    LoadedScenario loaded = LoadScenario(path, {});
    if (loaded.ok()) {
      std::printf("%s: ok (%d replicas, %s)\n", path.c_str(), TotalReplicas(loaded.scenario),
                  scenario::Protocol::Kind_Name(loaded.scenario.protocol().kind()).c_str());
    } else {
      for (const std::string& e : loaded.errors) std::fprintf(stderr, "%s\n", e.c_str());
      status = 2;
    }
  }
  return status;
}

}  // namespace geopbft::cli
