// Help for the command line: `geopbft COMMAND --help`, `geopbft --version`, and "did you mean"
// for a mistyped option.
#ifndef GEOPBFT_SIM_CLI_HELP_H_
#define GEOPBFT_SIM_CLI_HELP_H_

#include <string>
#include <vector>

namespace geopbft::cli {

// The overview of every command (`geopbft --help`).
std::string Overview();
// One command's help: usage, what it does, its options, exit codes. Empty for an unknown command.
std::string CommandHelp(const std::string& command);
// Whether the arguments ask for help (--help or -h anywhere).
bool AsksForHelp(const std::vector<std::string>& args);
// "geopbft 0.x (commit abc1234)": the version and the commit the binary was built from.
std::string VersionLine();
// For an option the command does not know: "; did you mean '--seed'?" or "".
std::string OptionHint(const std::string& command, const std::string& option);
// The command names closest to a mistyped one.
std::string CommandHint(const std::string& typed);

}  // namespace geopbft::cli

#endif  // GEOPBFT_SIM_CLI_HELP_H_
