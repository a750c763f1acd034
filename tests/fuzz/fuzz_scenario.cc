// libFuzzer target: the scenario parser and validator, fed arbitrary text. A scenario file is user
// input: it must be accepted or rejected with located errors, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/scenario_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  geopbft::LoadedScenario l = geopbft::LoadScenarioText(text, "fuzz.textproto", {});
  if (l.ok()) {
    // A valid scenario also survives printing and reloading (what `run` writes as scenario.textproto).
    geopbft::LoadedScenario again =
        geopbft::LoadScenarioText(geopbft::ScenarioToText(l.scenario), "again.textproto", {});
    if (!again.ok()) __builtin_trap();
  }
  return 0;
}
