// CPU model: handling an input costs base + per_byte * input size + the crypto operations the step
// performed, divided by speed. With one core (cpu.cores = 1) a replica handles one input at a time,
// all of it on that core (Cost). With more, the part that authenticates the input (reading its
// bytes, checking signatures and MACs, re-hashing what arrived) runs on worker cores and the rest on
// the ordering core (Split; the host schedules the two, see Simulation::Handle).
// The same OpCounts come out of FAST and REAL crypto, so simulated time never depends on the mode.
#ifndef GEOPBFT_SIM_CPU_MODEL_H_
#define GEOPBFT_SIM_CPU_MODEL_H_

#include <cmath>

#include "protocol/message.h"
#include "protocol/types.h"
#include "scenarios/scenario.pb.h"

namespace geopbft {

class CpuModel {
 public:
  explicit CpuModel(const scenario::Cpu& c)
      : base_ns_(c.base_us() * 1e3),
        per_byte_ns_(c.per_byte_ns()),
        sign_ns_(c.sign_us() * 1e3),
        verify_ns_(c.verify_us() * 1e3),
        mac_ns_(c.mac_us() * 1e3),
        hash_ns_per_byte_(c.hash_ns_per_byte()) {}

  TimeNs Cost(uint32_t input_bytes, const OpCounts& ops, double speed) const {
    double ns = base_ns_ + per_byte_ns_ * input_bytes + sign_ns_ * ops.signs + verify_ns_ * ops.verifies +
                mac_ns_ * (ops.macs + ops.mac_checks) +
                hash_ns_per_byte_ * static_cast<double>(ops.hashed_bytes + ops.checked_bytes);
    return static_cast<TimeNs>(std::llround(ns / speed));
  }

  struct Parts {
    TimeNs authenticate = 0;  // worker cores
    TimeNs order = 0;         // the ordering core
  };
  Parts Split(uint32_t input_bytes, const OpCounts& ops, double speed) const {
    double auth = per_byte_ns_ * input_bytes + verify_ns_ * ops.verifies + mac_ns_ * ops.mac_checks +
                  hash_ns_per_byte_ * static_cast<double>(ops.checked_bytes);
    double order = base_ns_ + sign_ns_ * ops.signs + mac_ns_ * ops.macs +
                   hash_ns_per_byte_ * static_cast<double>(ops.hashed_bytes);
    return {static_cast<TimeNs>(std::llround(auth / speed)), static_cast<TimeNs>(std::llround(order / speed))};
  }

 private:
  double base_ns_, per_byte_ns_, sign_ns_, verify_ns_, mac_ns_, hash_ns_per_byte_;
};

}  // namespace geopbft

#endif  // GEOPBFT_SIM_CPU_MODEL_H_
