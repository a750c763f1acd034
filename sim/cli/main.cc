// geopbft command-line front end (DESIGN §6). The ./geopbft wrapper builds and then runs this.
#include <cstdio>
#include <string>
#include <vector>

#include "sim/cli/commands.h"

namespace {

constexpr char kUsage[] =
    "usage:\n"
    "  geopbft run [SCENARIO] [--seed=N] [--out=DIR] [--set=path=value ...] [--trace] [--crypto=real|fast]\n"
    "  geopbft validate SCENARIO...\n"
    "  geopbft audit DIR   (proven misbehaviour in the signed messages of a --trace run)\n"
    "  geopbft sweep SWEEP [--jobs=N] [--out=DIR] [--emit-jobs=FILE] [--collect]\n"
    "  geopbft swarm [--seeds=N] [--first-seed=S] [--protocol=all|pbft|geobft|reputation] [--out=DIR]\n"
    "                [--safety-only] [--jobs=N] [--digests]   (random scenarios, every checker on)\n"
    "  geopbft plot DIR    (through the ./geopbft wrapper: PNGs and report.html of a run or sweep)\n"
    "  geopbft test      (through the ./geopbft wrapper: build and run the test suite)\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    // No subcommand: run the default scenario, as `./geopbft run` does.
    return geopbft::cli::RunCommand({});
  }
  std::string cmd = args.front();
  args.erase(args.begin());
  if (cmd == "run") return geopbft::cli::RunCommand(args);
  if (cmd == "validate") return geopbft::cli::ValidateCommand(args);
  if (cmd == "audit") return geopbft::cli::AuditCommand(args);
  if (cmd == "sweep") return geopbft::cli::SweepCommand(args);
  if (cmd == "swarm") return geopbft::cli::SwarmCommand(args);
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::fprintf(stderr, "geopbft: unknown command '%s'\n%s", cmd.c_str(), kUsage);
  return 2;
}
