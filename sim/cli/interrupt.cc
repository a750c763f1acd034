#include "sim/cli/interrupt.h"

#include <signal.h>

namespace geopbft::cli {
namespace {

volatile sig_atomic_t caught = 0;

void OnSignal(int sig) { caught = sig; }

}  // namespace

void CatchInterrupts() {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int Interrupted() { return caught; }

}  // namespace geopbft::cli
