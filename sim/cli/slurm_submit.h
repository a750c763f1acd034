// geopbft sweep --slurm: the sweep's missing runs as one Slurm job array, each task running a slice
// of them (10,000 runs make a few hundred tasks, not 10,000 jobs).
#ifndef GEOPBFT_SIM_CLI_SLURM_SUBMIT_H_
#define GEOPBFT_SIM_CLI_SLURM_SUBMIT_H_

#include <string>
#include <vector>

#include "sim/sweep.h"

namespace geopbft::cli {

struct SlurmRequest {
  std::string sbatch_options;  // passed to sbatch as written (e.g. "--partition=short --time=30")
  long max_tasks = 256;        // array tasks at most; runs are dealt out in slices
  // Each run as one self-contained shell command, and its id (same order).
  std::vector<std::string> commands, ids;
};

// Writes DIR/slurm/jobs.tsv and DIR/slurm/array.sh and submits the array with `sbatch`. Returns 0
// when the job was accepted (and, with --wait among the options, every task succeeded), 1 when a
// task failed, 2 when submission failed. Prints the job id and what to run next.
int SubmitSlurmArray(const std::string& sweep_name, const std::string& out, const SlurmRequest& req);

// Runs that failed inside Slurm tasks (DIR/slurm/failed-*: "<run id> exit <status>" lines), for
// --collect to report; empty when none did.
std::vector<std::string> SlurmFailures(const std::string& out);

}  // namespace geopbft::cli

#endif  // GEOPBFT_SIM_CLI_SLURM_SUBMIT_H_
