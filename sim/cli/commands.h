// Subcommands of the geopbft front end. Each returns the process exit code:
// 0 ok, 1 a checker failed, 2 bad input (nothing written).
#ifndef GEOPBFT_SIM_CLI_COMMANDS_H_
#define GEOPBFT_SIM_CLI_COMMANDS_H_

#include <string>
#include <vector>

namespace geopbft::cli {

int RunCommand(const std::vector<std::string>& args);
int ValidateCommand(const std::vector<std::string>& args);
int AuditCommand(const std::vector<std::string>& args);
int SweepCommand(const std::vector<std::string>& args);
int SwarmCommand(const std::vector<std::string>& args);

// scenarios/default.textproto next to the project ($GEOPBFT_HOME, set by the ./geopbft wrapper),
// or in the current directory.
std::string DefaultScenarioPath();

}  // namespace geopbft::cli

#endif  // GEOPBFT_SIM_CLI_COMMANDS_H_
