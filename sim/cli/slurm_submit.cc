#include "sim/cli/slurm_submit.h"

#include <dirent.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "sim/run_outputs.h"

namespace geopbft::cli {
namespace {

// Failure markers of an earlier submission (their runs are submitted again now).
void RemoveFailureMarkers(const std::string& dir) {
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (absl::StartsWith(e->d_name, "failed-")) std::remove(absl::StrCat(dir, "/", e->d_name).c_str());
    }
    closedir(d);
  }
}

// The array task: its slice of jobs.tsv, one run after another, each logged to DIR/logs/<id>.log.
// A run that exits 0 or 1 (a checker fired) is complete; anything else is written to
// failed-<task> and makes the task fail, so that sbatch --wait, sacct and --collect all see it.
std::string ArrayScript(const std::string& name, const std::string& out, long tasks, long per_task) {
  return absl::StrFormat(
      "#!/bin/bash\n"
      "# Written by geopbft sweep --slurm: task K runs lines K*%d+1 .. (K+1)*%d of jobs.tsv.\n"
      "#SBATCH --job-name=geopbft-%s\n"
      "#SBATCH --array=0-%d\n"
      "#SBATCH --output=%s/slurm/task-%%a.log\n"
      "#SBATCH --ntasks=1\n"
      "set -u\n"
      "dir='%s'\n"
      "per=%d\n"
      "first=$(( SLURM_ARRAY_TASK_ID * per + 1 ))\n"
      "failed=0\n"
      "mkdir -p \"$dir/logs\"\n"
      "while IFS=$'\\t' read -r id cmd; do\n"
      "  bash -c \"$cmd\" >\"$dir/logs/$id.log\" 2>&1\n"
      "  status=$?\n"
      "  if (( status > 1 )); then\n"
      "    echo \"$id exit $status\" >>\"$dir/slurm/failed-$SLURM_ARRAY_TASK_ID\"\n"
      "    echo \"run $id failed (exit $status): see $dir/logs/$id.log\"\n"
      "    failed=$(( failed + 1 ))\n"
      "  else\n"
      "    echo \"run $id done\"\n"
      "  fi\n"
      "done < <(sed -n \"${first},$(( first + per - 1 ))p\" \"$dir/slurm/jobs.tsv\")\n"
      "exit $(( failed > 0 ))\n",
      per_task, per_task, name, tasks - 1, out, out, per_task);
}

}  // namespace

int SubmitSlurmArray(const std::string& sweep_name, const std::string& out, const SlurmRequest& req) {
  const std::string dir = out + "/slurm";
  if (absl::Status st = MakeDirs(dir); !st.ok()) {
    std::fprintf(stderr, "geopbft sweep: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  RemoveFailureMarkers(dir);
  const long runs = static_cast<long>(req.commands.size());
  const long per_task = (runs + std::max(1L, req.max_tasks) - 1) / std::max(1L, req.max_tasks);
  const long tasks = (runs + per_task - 1) / per_task;
  std::string jobs;
  for (size_t i = 0; i < req.commands.size(); ++i) absl::StrAppend(&jobs, req.ids[i], "\t", req.commands[i], "\n");
  for (const auto& [path, text] : {std::pair<std::string, std::string>{dir + "/jobs.tsv", jobs},
                                   {dir + "/array.sh", ArrayScript(sweep_name, out, tasks, per_task)}}) {
    if (absl::Status st = WriteFileAtomic(path, text); !st.ok()) {
      std::fprintf(stderr, "geopbft sweep: %s\n", std::string(st.message()).c_str());
      return 2;
    }
  }
  const std::string command = absl::StrCat("sbatch --parsable ", req.sbatch_options, " '", dir, "/array.sh'");
  std::fprintf(stderr, "sweep %s: %ld runs in %ld Slurm array task(s) of up to %ld: %s\n", sweep_name.c_str(), runs,
               tasks, per_task, command.c_str());
  std::fflush(stderr);
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) {
    std::fprintf(stderr, "geopbft sweep: cannot start sbatch\n");
    return 2;
  }
  std::string job;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) job += buf;
  const int status = pclose(p);
  job = std::string(absl::StripAsciiWhitespace(job));
  if (job.empty()) {
    std::fprintf(stderr, "geopbft sweep: sbatch did not accept the job (is Slurm reachable? SLURM_CONF?)\n");
    return 2;
  }
  std::printf("submitted Slurm job %s (%ld tasks); task logs in %s/task-*.log\n", job.c_str(), tasks, dir.c_str());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;  // (--wait: a task failed)
  return 0;
}

std::vector<std::string> SlurmFailures(const std::string& out) {
  std::vector<std::string> failures;
  const std::string dir = out + "/slurm";
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (absl::StartsWith(e->d_name, "failed-")) files.push_back(absl::StrCat(dir, "/", e->d_name));
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    std::ifstream in(f);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) failures.push_back(line);
    }
  }
  return failures;
}

}  // namespace geopbft::cli
