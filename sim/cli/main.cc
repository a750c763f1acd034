// geopbft command-line front end (DESIGN §6). The ./geopbft wrapper builds and then runs this.
// Every command answers --help (sim/cli/help.cc holds the texts).
#include <cstdio>
#include <string>
#include <vector>

#include "sim/cli/commands.h"
#include "sim/cli/help.h"

int main(int argc, char** argv) {
  using geopbft::cli::AsksForHelp;
  using geopbft::cli::CommandHelp;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    // No subcommand: run the default scenario, as `./geopbft run` does.
    return geopbft::cli::RunCommand({});
  }
  std::string cmd = args.front();
  args.erase(args.begin());
  if (cmd == "--version" || cmd == "version") {
    std::printf("%s\n", geopbft::cli::VersionLine().c_str());
    return 0;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    const std::string help = args.empty() ? "" : CommandHelp(args.front());
    std::fputs(help.empty() ? geopbft::cli::Overview().c_str() : help.c_str(), stdout);
    return 0;
  }
  if (!CommandHelp(cmd).empty() && AsksForHelp(args)) {
    std::fputs(CommandHelp(cmd).c_str(), stdout);
    return 0;
  }
  if (cmd == "run") return geopbft::cli::RunCommand(args);
  if (cmd == "validate") return geopbft::cli::ValidateCommand(args);
  if (cmd == "audit") return geopbft::cli::AuditCommand(args);
  if (cmd == "sweep") return geopbft::cli::SweepCommand(args);
  if (cmd == "swarm") return geopbft::cli::SwarmCommand(args);
  if (cmd == "plot" || cmd == "test") {
    std::fprintf(stderr, "geopbft: '%s' runs through the ./geopbft wrapper (./geopbft %s)\n", cmd.c_str(), cmd.c_str());
    return 2;
  }
  if (!cmd.empty() && cmd[0] != '-' && cmd.find('.') != std::string::npos) {
    // `geopbft scenarios/x.textproto`: a scenario where a command was expected.
    std::fprintf(stderr, "geopbft: unknown command '%s'; to run a scenario: geopbft run %s\n", cmd.c_str(),
                 cmd.c_str());
    return 2;
  }
  std::fprintf(stderr, "geopbft: unknown command '%s'%s\n\n%s", cmd.c_str(), geopbft::cli::CommandHint(cmd).c_str(),
               geopbft::cli::Overview().c_str());
  return 2;
}
