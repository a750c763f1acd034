// The results of one client's latest executed requests, kept to answer a re-sent request whose
// replies were lost: at most `cap` of them, those of the highest timestamps. Requests execute
// nearly in timestamp order, so a sorted ring takes each new answer at its end and drops
// the oldest at its front; the rare out-of-order answer is inserted in place. (A search tree did the
// same work with a descent and a rebalancing erase per executed request: 10% of a GeoBFT run.)
#ifndef GEOPBFT_PROTOCOL_KEPT_ANSWERS_H_
#define GEOPBFT_PROTOCOL_KEPT_ANSWERS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "protocol/ring_deque.h"
#include "protocol/types.h"

namespace geopbft {

class KeptAnswers {
  using Entry = std::pair<uint64_t, uint64_t>;  // timestamp, result
  // The first index whose timestamp is >= `timestamp`.
  //
  // Timestamps are distinct and sorted, so the entry k places before the end is at most back - k:
  // `timestamp` cannot sit before index size-1-(back-timestamp). A client's timestamps are nearly
  // dense, so that index usually holds it: one probe, where a binary search over the ring touched a
  // cache line per step (an eighth of a default run's execution time went to those misses).
  // Otherwise a binary search of what is left finds the same index. Written out: the ring has no
  // iterators, and std::views::iota with std::ranges::partition_point does not compile with clang
  // against libstdc++ 12's ranges (the fuzz build uses clang).
  size_t LowerBound(uint64_t timestamp) const {
    size_t lo = 0, n = answers_.size();
    if (n == 0 || answers_.back().first < timestamp) return n;
    const uint64_t behind = answers_.back().first - timestamp;
    if (behind < n) {
      lo = n - 1 - static_cast<size_t>(behind);
      if (answers_[lo].first >= timestamp) return lo;  // (== : dense; > cannot happen)
      ++lo;
      n -= lo;
    }
    while (n > 0) {
      const size_t half = n / 2;
      if (answers_[lo + half].first < timestamp) {
        lo += half + 1;
        n -= half + 1;
      } else {
        n = half;
      }
    }
    return lo;
  }
  RingDeque<Entry> answers_;

 public:
  // Records the result of `timestamp` (executed once: at-most-once is checked before), keeping the
  // `cap` highest timestamps.
  void Add(uint64_t timestamp, uint64_t result, size_t cap) {
    if (answers_.empty() || answers_.back().first < timestamp) {
      answers_.push_back({timestamp, result});
    } else {
      const size_t at = LowerBound(timestamp);
      if (at < answers_.size() && answers_[at].first == timestamp) {
        answers_[at].second = result;
      } else {
        answers_.insert(at, {timestamp, result});
      }
    }
    while (answers_.size() > cap) answers_.pop_front();
  }
  // The same as Add of each of `in[0..k)` in turn (ascending, distinct timestamps). One batch's
  // answers for a client arrive shuffled by the network's jitter, and Add shifted the ring behind
  // each late one (an eighth of execution's instructions); here those below the newest kept merge
  // in from the back, each kept entry moving once at most.
  template <typename Answer>  // with .timestamp and .result
  void AddSorted(const Answer* in, size_t k, size_t cap) {
    size_t lows = 0;  // in[0..lows) are at or below the newest kept
    while (lows < k && !answers_.empty() && in[lows].timestamp <= answers_.back().first) ++lows;
    bool distinct = true;  // from those kept (always, after at-most-once; else Add's rule, one by one)
    for (size_t j = 0; j < lows && distinct; ++j) distinct = Find(in[j].timestamp) == nullptr;
    if (!distinct) {
      for (size_t j = 0; j < k; ++j) Add(in[j].timestamp, in[j].result, cap);
      return;
    }
    const size_t old = answers_.size();
    for (size_t j = 0; j < lows; ++j) answers_.push_back({});
    size_t write = old + lows, from = old, j = lows;  // (one past each)
    while (j > 0) {
      if (from > 0 && answers_[from - 1].first > in[j - 1].timestamp) {
        answers_[--write] = answers_[--from];
      } else {
        --j;
        answers_[--write] = {in[j].timestamp, in[j].result};
      }
    }
    for (size_t h = lows; h < k; ++h) answers_.push_back({in[h].timestamp, in[h].result});
    while (answers_.size() > cap) answers_.pop_front();
  }
  // The result of `timestamp`, if kept.
  const uint64_t* Find(uint64_t timestamp) const {
    const size_t at = LowerBound(timestamp);
    return at < answers_.size() && answers_[at].first == timestamp ? &answers_[at].second : nullptr;
  }
  size_t size() const { return answers_.size(); }
};

// The answers of one batch, gathered while it executes and kept per client once it is done
// (KeptAnswers::AddSorted). Nothing reads a client's kept answers between two executions of one
// batch, so keeping them at its end is keeping them one by one.
class BatchAnswers {
 public:
  struct Answer {
    NodeId client = 0;
    uint64_t timestamp = 0;
    uint64_t result = 0;
  };
  void Add(NodeId client, uint64_t timestamp, uint64_t result) { answers_.push_back({client, timestamp, result}); }
  // Adds them to `kept_of(client)` (a KeptAnswers&) for each client, then forgets them.
  template <typename KeptOf>
  void KeepIn(KeptOf&& kept_of, size_t cap) {
    if (!SortByPlacing()) {
      std::sort(answers_.begin(), answers_.end(), [](const Answer& a, const Answer& b) {
        return a.client != b.client ? a.client < b.client : a.timestamp < b.timestamp;
      });
    }
    for (size_t i = 0; i < answers_.size();) {
      size_t end = i + 1;
      while (end < answers_.size() && answers_[end].client == answers_[i].client) ++end;
      kept_of(answers_[i].client).AddSorted(&answers_[i], end - i, cap);
      i = end;
    }
    answers_.clear();
  }

 private:
  // Sorts the answers by (client, timestamp) without comparing them: each goes to its place, the
  // clients' groups in client order and within each the slot its timestamp names. A batch holds
  // the requests of few clients, each a short run of timestamps (shuffled by the network's
  // jitter), and std::sort on those hundred answers was 2.7 % of a default run (every replica sorts
  // every batch of its cluster twice, for its local and global layers). The order is the one
  // std::sort gives, keys being distinct; false (nothing moved) where placing does not fit: more
  // than kMaxClients clients, a run sparser than its size allows, or a key twice.
  bool SortByPlacing() {
    constexpr size_t kMaxClients = 8;
    struct Group {
      NodeId client;
      uint32_t count;
      uint64_t low, high;
      size_t first_slot;
    };
    Group groups[kMaxClients];
    size_t n_groups = 0;
    uint8_t group_of_last = 0;
    for (const Answer& a : answers_) {
      size_t g = group_of_last;
      if (g >= n_groups || groups[g].client != a.client) {
        for (g = 0; g < n_groups && groups[g].client != a.client; ++g) {
        }
        if (g == n_groups) {
          if (n_groups == kMaxClients) return false;
          groups[n_groups++] = {a.client, 0, a.timestamp, a.timestamp, 0};
        }
        group_of_last = static_cast<uint8_t>(g);
      }
      Group& group = groups[g];
      ++group.count;
      group.low = std::min(group.low, a.timestamp);
      group.high = std::max(group.high, a.timestamp);
    }
    std::sort(groups, groups + n_groups, [](const Group& a, const Group& b) { return a.client < b.client; });
    size_t slots = 0;
    for (size_t g = 0; g < n_groups; ++g) {
      if (groups[g].high - groups[g].low >= 4 * uint64_t{groups[g].count} + 64) return false;
      groups[g].first_slot = slots;
      slots += static_cast<size_t>(groups[g].high - groups[g].low) + 1;
    }
    slot_.assign(slots, UINT32_MAX);
    for (size_t i = 0; i < answers_.size(); ++i) {
      const Answer& a = answers_[i];
      size_t g = 0;
      while (groups[g].client != a.client) ++g;
      uint32_t& slot = slot_[groups[g].first_slot + static_cast<size_t>(a.timestamp - groups[g].low)];
      if (slot != UINT32_MAX) return false;  // (a key twice)
      slot = static_cast<uint32_t>(i);
    }
    placed_.clear();
    for (uint32_t i : slot_) {
      if (i != UINT32_MAX) placed_.push_back(answers_[i]);
    }
    answers_.swap(placed_);
    return true;
  }

  std::vector<Answer> answers_;  // (its storage is kept from batch to batch, as the scratch below)
  std::vector<uint32_t> slot_;   // SortByPlacing: index of the answer each slot holds
  std::vector<Answer> placed_;
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_KEPT_ANSWERS_H_
