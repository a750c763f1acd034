// ./geopbft sweep FILE [--jobs=N] [--out=DIR] [--emit-jobs=FILE] [--collect] [--slurm[=OPTIONS]] [--slurm-tasks=N]
//
// Runs every point of a sweep as its own `geopbft run` process (N at a time), each into
// DIR/<run id>/, skipping runs whose summary.json is already there (a killed or partial sweep
// resumes where it stopped: a run's files appear atomically, summary.json last). Then writes
// DIR/results.csv. --emit-jobs writes the same runs as self-contained shell commands instead (for
// GNU parallel); --slurm submits the missing runs as one Slurm job array (sim/cli/slurm_submit.h);
// --collect only rebuilds results.csv from the run directories.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "sim/cli/commands.h"
#include "sim/cli/help.h"
#include "sim/cli/interrupt.h"
#include "sim/cli/slurm_submit.h"
#include "sim/run_outputs.h"
#include "sim/sweep.h"

namespace geopbft::cli {
namespace {

std::string Absolute(const std::string& p) {
  if (!p.empty() && p.front() == '/') return p;
  char buf[PATH_MAX];
  if (getcwd(buf, sizeof buf) == nullptr) return p;
  return absl::StrCat(buf, "/", p);
}

std::string Quote(const std::string& s) { return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'"); }

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string SelfExe() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "geopbft";
  buf[n] = '\0';
  return buf;
}

std::vector<std::string> RunArgs(const LoadedSweep& sw, const SweepRun& run, const std::string& out_dir) {
  std::vector<std::string> args = {"run", Absolute(sw.base_path), absl::StrCat("--seed=", run.seed)};
  for (const std::string& o : run.overrides) args.push_back(absl::StrCat("--set=", o));
  args.push_back(absl::StrCat("--out=", out_dir, "/", run.id));
  args.push_back("--no-plot");  // one plot of the whole sweep instead: geopbft plot DIR
  return args;
}

void Progress(size_t done, size_t total, size_t failed) {
  if (!isatty(STDERR_FILENO)) return;
  const int width = 30;
  int filled = total ? static_cast<int>(width * done / total) : width;
  std::fprintf(stderr, "\r[%s%s] %zu/%zu runs%s", std::string(filled, '#').c_str(),
               std::string(width - filled, '.').c_str(), done, total,
               failed ? absl::StrCat(", ", failed, " failed").c_str() : "");
  if (done == total) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace

struct SweepArgs {
  std::string file, out, emit;
  long jobs = sysconf(_SC_NPROCESSORS_ONLN);
  bool collect_only = false;
  bool slurm = false;
  std::string sbatch_options;  // --slurm=OPTIONS
  long slurm_tasks = 256;
};

bool ParseSweepArgs(const std::vector<std::string>& args, SweepArgs* sa) {
  for (const std::string& a : args) {
    if (absl::StartsWith(a, "--jobs=")) {
      if (!absl::SimpleAtoi(a.substr(7), &sa->jobs) || sa->jobs < 1) {
        std::fprintf(stderr, "geopbft sweep: --jobs needs a number >= 1\n");
        return false;
      }
    } else if (absl::StartsWith(a, "--out=")) {
      sa->out = a.substr(6);
    } else if (absl::StartsWith(a, "--emit-jobs=")) {
      sa->emit = a.substr(12);
    } else if (a == "--collect") {
      sa->collect_only = true;
    } else if (a == "--slurm" || absl::StartsWith(a, "--slurm=")) {
      sa->slurm = true;
      if (a.size() > 8) sa->sbatch_options = a.substr(8);
    } else if (absl::StartsWith(a, "--slurm-tasks=")) {
      if (!absl::SimpleAtoi(a.substr(14), &sa->slurm_tasks) || sa->slurm_tasks < 1) {
        std::fprintf(stderr, "geopbft sweep: --slurm-tasks needs a number >= 1\n");
        return false;
      }
    } else if (!absl::StartsWith(a, "--") && sa->file.empty()) {
      sa->file = a;
    } else {
      std::fprintf(stderr, "geopbft sweep: unknown argument '%s'%s\n", a.c_str(),
                   absl::StartsWith(a, "-") ? OptionHint("sweep", a).c_str() : "");
      return false;
    }
  }
  if (sa->file.empty()) {
    std::fprintf(stderr,
                 "usage: geopbft sweep SWEEP [--jobs=N] [--out=DIR] [--emit-jobs=FILE] [--collect] "
                 "[--slurm[=SBATCH OPTIONS]] [--slurm-tasks=N]\n");
    return false;
  }
  return true;
}

// --emit-jobs: one self-contained line per run: it names the binary, the base scenario and the
// output by absolute path, so it runs from any directory (GNU parallel, a Slurm array task).
std::string JobLine(const LoadedSweep& sw, const SweepRun& run, const std::string& out) {
  std::vector<std::string> quoted = {Quote(SelfExe())};
  for (const std::string& a : RunArgs(sw, run, out)) quoted.push_back(Quote(a));
  return absl::StrJoin(quoted, " ");
}

int EmitJobs(const LoadedSweep& sw, const SweepArgs& sa, const std::string& out) {
  std::string lines;
  for (const SweepRun& run : sw.runs) absl::StrAppend(&lines, JobLine(sw, run, out), "\n");
  if (absl::Status st = WriteFileAtomic(sa.emit, lines); !st.ok()) {
    std::fprintf(stderr, "geopbft sweep: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  std::printf("%zu run commands in %s; afterwards: geopbft sweep %s --collect --out=%s\n", sw.runs.size(),
              sa.emit.c_str(), sa.file.c_str(), out.c_str());
  return 0;
}

// Runs `todo` on `jobs` worker processes (each a `geopbft run` writing its own directory and log).
// Returns how many failed, or -1 when a worker could not be started.
long RunWorkers(const LoadedSweep& sw, const std::vector<const SweepRun*>& todo, const std::string& out, long jobs) {
  size_t failed = 0;
  std::fprintf(stderr, "sweep %s: %zu runs, %zu already done, %zu to run on %ld worker(s)\n", sw.name.c_str(),
               sw.runs.size(), sw.runs.size() - todo.size(), todo.size(), jobs);
  MakeDirs(out + "/logs").IgnoreError();
  const std::string exe = SelfExe();
  size_t next = 0, running = 0, finished = sw.runs.size() - todo.size();
  Progress(finished, sw.runs.size(), failed);
  CatchInterrupts();
  std::vector<pid_t> workers;  // running
  bool forwarded = false;
  while ((next < todo.size() && !Interrupted()) || running > 0) {
    if (Interrupted() && !forwarded) {
      // Interrupted: no new runs; the running ones stop without writing (a worker's run directory
      // never holds a half-written file), and results.csv lists the finished runs.
      for (pid_t w : workers) kill(w, Interrupted());
      forwarded = true;
    }
    while (running < static_cast<size_t>(jobs) && next < todo.size() && !Interrupted()) {
      const SweepRun& run = *todo[next++];
      std::vector<std::string> a = RunArgs(sw, run, out);
      std::string log = absl::StrCat(out, "/logs/", run.id, ".log");
      pid_t pid = fork();
      if (pid == 0) {
        int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) dup2(fd, STDOUT_FILENO), dup2(fd, STDERR_FILENO), close(fd);
        std::vector<char*> argv = {const_cast<char*>(exe.c_str())};
        for (std::string& s : a) argv.push_back(s.data());
        argv.push_back(nullptr);
        execv(exe.c_str(), argv.data());
        _exit(127);
      }
      if (pid < 0) {
        std::fprintf(stderr, "geopbft sweep: cannot start a worker: %s\n", std::strerror(errno));
        return -1;
      }
      workers.push_back(pid);
      ++running;
    }
    if (running == 0) continue;
    int status = 0;
    const pid_t done_pid = wait(&status);
    if (done_pid < 0) {
      if (errno == EINTR) continue;  // a signal: forward it at the top of the loop
      break;
    }
    workers.erase(std::remove(workers.begin(), workers.end(), done_pid), workers.end());
    --running;
    if (Interrupted()) continue;  // an interrupted worker is neither finished nor failed
    ++finished;
    // Exit 1 (a checker fired) still produced a complete run; anything else is a failure.
    if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 1)) ++failed;
    Progress(finished, sw.runs.size(), failed);
  }
  return static_cast<long>(failed);
}

int SweepCommand(const std::vector<std::string>& args) {
  SweepArgs sa;
  if (!ParseSweepArgs(args, &sa)) return 2;
  LoadedSweep sw = LoadSweep(sa.file);
  if (!sw.ok()) {
    for (const std::string& e : sw.errors) std::fprintf(stderr, "%s\n", e.c_str());
    return 2;
  }
  std::string out = Absolute(sa.out.empty() ? absl::StrCat("out/", sw.name) : sa.out);
  if (absl::Status st = MakeDirs(out); !st.ok()) {
    std::fprintf(stderr, "geopbft sweep: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  if (!sa.emit.empty()) return EmitJobs(sw, sa, out);

  std::vector<const SweepRun*> todo;
  for (const SweepRun& run : sw.runs) {
    if (!Exists(out + "/" + run.id + "/summary.json")) todo.push_back(&run);
  }
  long failed = 0;
  if (sa.slurm && !sa.collect_only && !todo.empty()) {
    SlurmRequest req{sa.sbatch_options, sa.slurm_tasks, {}, {}};
    for (const SweepRun* run : todo) {
      req.commands.push_back(JobLine(sw, *run, out));
      req.ids.push_back(run->id);
    }
    const int submitted = SubmitSlurmArray(sw.name, out, req);
    if (submitted == 2) return 2;
    // Without --wait, sbatch returns at once: the runs are still to come.
    if (!absl::StrContains(sa.sbatch_options, "--wait")) {
      std::printf("when the job is done: geopbft sweep %s --collect --out=%s\n", sa.file.c_str(), out.c_str());
      return 0;
    }
  } else if (!sa.collect_only && !sa.slurm) {
    failed = RunWorkers(sw, todo, out, sa.jobs);
  }
  if (failed < 0) return 2;
  // Runs that failed in Slurm tasks: reported, not silently missing.
  for (const std::string& f : SlurmFailures(out)) {
    std::fprintf(stderr, "geopbft sweep: run %s in a Slurm task (log: %s/logs/)\n", f.c_str(), out.c_str());
  }
  size_t done = 0;
  std::string csv = ResultsCsv(sw, out, &done);
  if (absl::Status st = WriteFileAtomic(out + "/results.csv", csv); !st.ok()) {
    std::fprintf(stderr, "geopbft sweep: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  std::printf("%s/results.csv: %zu of %zu runs%s\n", out.c_str(), done, sw.runs.size(),
              failed ? absl::StrCat(" (", failed, " failed: see ", out, "/logs/)").c_str() : "");
  if (Interrupted()) {
    std::fprintf(stderr, "geopbft sweep: interrupted; %zu of %zu runs finished (run the sweep again to resume)\n", done,
                 sw.runs.size());
    return 128 + Interrupted();
  }
  return done == sw.runs.size() ? 0 : 1;
}

}  // namespace geopbft::cli
