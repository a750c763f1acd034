// The timers a replica has pending, as it knows them: one table instead of a flag per timer that
// mirrors the simulator's queue. Setting a timer that is pending replaces it (the host keeps one
// event per id); a timer the replica sees fire, cancels or forgets is no longer pending here.
#ifndef GEOPBFT_PROTOCOL_TIMER_TABLE_H_
#define GEOPBFT_PROTOCOL_TIMER_TABLE_H_

#include <array>
#include <cstdint>

#include "protocol/effects.h"
#include "protocol/types.h"

namespace geopbft {

class TimerTable {
 public:
  static constexpr uint64_t kMaxId = 7;  // ids 1..kMaxId

  bool Armed(uint64_t id) const { return slots_[id].armed; }
  TimeNs At(uint64_t id) const { return slots_[id].at; }  // when it fires, if armed
  void Set(uint64_t id, TimeNs at, Effects& out) {
    out.SetTimer(id, at);
    slots_[id] = {true, at};
  }
  // Cancels the timer if it is pending.
  void Cancel(uint64_t id, Effects& out) {
    if (slots_[id].armed) out.CancelTimer(id);
    slots_[id].armed = false;
  }
  // The timer fired: it is no longer pending.
  void Fired(uint64_t id) { slots_[id].armed = false; }
  // Stop counting on a timer that may be gone (its event, if still queued, is handled when it fires).
  void Forget(uint64_t id) { slots_[id].armed = false; }
  // A restart: the host dropped every pending timer.
  void Clear() { slots_ = {}; }

 private:
  struct Slot {
    bool armed = false;
    TimeNs at = 0;
  };
  std::array<Slot, kMaxId + 1> slots_{};
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_TIMER_TABLE_H_
