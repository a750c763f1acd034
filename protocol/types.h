// Basic vocabulary shared by the protocol state machines. Nothing here knows about the simulator.
#ifndef GEOPBFT_PROTOCOL_TYPES_H_
#define GEOPBFT_PROTOCOL_TYPES_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace geopbft {

// Simulated time in integer nanoseconds. The protocol only ever receives it as an argument.
using TimeNs = int64_t;
inline constexpr TimeNs kMicrosecond = 1000;
inline constexpr TimeNs kMillisecond = 1000 * kMicrosecond;
inline constexpr TimeNs kSecond = 1000 * kMillisecond;

// The upper median of a window of durations (the element at size/2 in order): what the
// reputation defence's pace monitors compare with their bounds. The window must not be empty.
inline TimeNs UpperMedian(std::vector<TimeNs> window) {
  std::nth_element(window.begin(), window.begin() + window.size() / 2, window.end());
  return window[window.size() / 2];
}

// Every principal (replica or client) has a node id. Replicas come first: [0, replicas), then
// clients. A node id doubles as the principal whose key signs for the node.
using NodeId = uint32_t;

// SHA-256 digest.
struct Digest {
  std::array<uint8_t, 32> bytes{};

  bool operator==(const Digest& o) const { return bytes == o.bytes; }
  bool operator!=(const Digest& o) const { return !(*this == o); }
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes.data()), bytes.size()}; }
  static Digest FromBytes(std::string_view s) {
    Digest d;
    if (s.size() == d.bytes.size()) std::memcpy(d.bytes.data(), s.data(), s.size());
    return d;
  }
  // First eight bytes, for compact traces and diagnostics.
  uint64_t Prefix64() const {
    uint64_t v;
    std::memcpy(&v, bytes.data(), sizeof v);
    return v;
  }
};

// 64-bit finalizer (splitmix64's). Deterministic and cheap; used for keyed tags, results and
// digests of simulator observations, never for security that the simulation relies on.
inline uint64_t Mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The replicated application's result for a client's request executed at `position` of the order
// (PBFT: the sequence number; GeoBFT: the global position): what replies carry and clients compare.
inline uint64_t ExecutionResult(uint64_t position, NodeId client, uint64_t timestamp) {
  return Mix64(position ^ Mix64((uint64_t{client} << 40) ^ timestamp));
}

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_TYPES_H_
