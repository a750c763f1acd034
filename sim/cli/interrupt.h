// SIGINT / SIGTERM for the front end: the signal only raises a flag; `run` stops its simulation at
// the next progress check and writes nothing, `sweep` stops starting runs, passes the signal to its
// workers and waits for them. Finished results stay intact and no file is left half-written.
#ifndef GEOPBFT_SIM_CLI_INTERRUPT_H_
#define GEOPBFT_SIM_CLI_INTERRUPT_H_

namespace geopbft::cli {

// Installs the handlers (without SA_RESTART, so that a blocking wait() returns on the signal).
void CatchInterrupts();
// The signal caught (SIGINT or SIGTERM), or 0.
int Interrupted();

}  // namespace geopbft::cli

#endif  // GEOPBFT_SIM_CLI_INTERRUPT_H_
