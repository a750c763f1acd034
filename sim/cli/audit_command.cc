// ./geopbft audit DIR: the off-line check of a traced run's signed messages (sim/audit.h).
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "sim/audit.h"
#include "sim/cli/commands.h"
#include "sim/scenario_loader.h"

namespace geopbft::cli {

int AuditCommand(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::fprintf(stderr, "usage: geopbft audit DIR   (DIR: the output of `geopbft run --trace`)\n");
    return 2;
  }
  const std::string dir = args[0];
  LoadedScenario loaded = LoadScenario(dir + "/scenario.textproto", {});
  if (!loaded.ok()) {
    for (const std::string& e : loaded.errors) std::fprintf(stderr, "%s\n", e.c_str());
    return 2;
  }
  std::ifstream in(dir + "/signed.log");
  if (!in) {
    std::fprintf(stderr, "geopbft audit: %s/signed.log: no such file (run the scenario with --trace)\n", dir.c_str());
    return 2;
  }
  const scenario::Scenario& sc = loaded.scenario;
  KeyRing keys(sc.seed(), sc.crypto().mode() == scenario::Crypto::REAL ? CryptoMode::kReal : CryptoMode::kFast);
  Auditor auditor(sc, &keys);
  std::string line;
  uint64_t number = 0, bad = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!auditor.AddLine(line)) {
      if (bad++ == 0)
        std::fprintf(stderr, "%s/signed.log:%llu: not a recorded message\n", dir.c_str(),
                     static_cast<unsigned long long>(number));
    }
  }
  std::fputs(auditor.Report().c_str(), stdout);
  if (bad > 0) {
    std::fprintf(stderr, "geopbft audit: %llu malformed line(s) in %s/signed.log\n",
                 static_cast<unsigned long long>(bad), dir.c_str());
    return 2;
  }
  return 0;
}

}  // namespace geopbft::cli
