#include "sim/reply_checker.h"

#include "absl/strings/str_format.h"

namespace geopbft {
namespace {

// A 64-bit fingerprint of a list of results: each result's fields folded by one multiply, then
// weighed by an odd multiplier of its place and summed (no chain of dependent multiplies through
// the list). A report differing in one result always differs in it (odd multipliers are
// invertible); two different reports agree on it by chance only, with probability about 2^-64:
// they are then taken as identical, the one way this checker can miss a difference.
uint64_t Fingerprint(const RequestResult* results, size_t n) {
  uint64_t sum = n;
  for (size_t i = 0; i < n; ++i) {
    const RequestResult& r = results[i];
    const uint64_t fields = ((uint64_t{r.client} << 40 ^ r.timestamp) * 0x9e3779b97f4a7c15ULL) ^ r.result;
    sum += fields * (0xd6e8feb86659fd93ULL + 2 * i);
  }
  return Mix64(sum);
}

}  // namespace

void ReplyChecker::Violation(std::string what) {
  if (violations_++ == 0) first_violation_ = std::move(what);
}

ReplyChecker::Entry* ReplyChecker::Find(const Key& key) {
  const auto& [client, ts] = key;
  if (client < windows_.size()) {
    if (Entry* e = windows_[client].Find(ts)) return e;
    // (Not there; it may have gone elsewhere before the window came to cover it.)
  }
  if (elsewhere_.empty()) return nullptr;
  auto it = elsewhere_.find(key);
  return it == elsewhere_.end() ? nullptr : &it->second;
}

ReplyChecker::Entry& ReplyChecker::Insert(const Key& key, const Entry& e) {
  ++tracked_;
  const auto& [client, ts] = key;
  if (client < kMaxWindowedClient) {
    if (client >= windows_.size()) windows_.resize(client + 1);
    TimestampWindow<Entry>& w = windows_[client];
    // Within reach of the window (a timestamp far from the client's others goes elsewhere).
    if (w.SpanWith(ts) <= kMaxWindowSpan) return w.Insert(ts) = e;
  }
  return elsewhere_.emplace(key, e).first->second;
}

void ReplyChecker::Erase(const Key& key) {
  const auto& [client, ts] = key;
  if (client < windows_.size() && windows_[client].Find(ts) != nullptr) {
    windows_[client].Erase(ts);
    --tracked_;
    return;
  }
  tracked_ -= elsewhere_.erase(key);
}

void ReplyChecker::OnExecuted(NodeId replica, const RequestResult& r, TimeNs now) {
  const Key key{r.client, r.timestamp};
  Entry* e = Find(key);
  if (e != nullptr && e->batch != 0) {
    // A request of a batch whose repeats are not counted in yet, reported from elsewhere: count
    // them in, and take that batch's later reports one by one (its counts are exact from now on).
    SettleForGood(e->batch);
    e = Find(key);  // (still there: settling erases only what is complete and accepted)
  }
  if (e == nullptr) {
    // A crashed replica, or one that caught up by state transfer, never executes some requests:
    // forget the oldest rather than grow without bound.
    while (order_.size() >= kMaxTracked) {
      Forget(order_.front());
      order_.pop_front();
    }
    e = &Insert(key, Entry{r.result, replica, 0, false, 0});
    order_.push_back(key);
  } else if (e->result != r.result) {
    Violation(absl::StrFormat(
        "at %.6f s replica %d executed request %d of client %d with result %016x, but replica %d with %016x",
        static_cast<double>(now) / kSecond, replica, r.timestamp, r.client, r.result, e->first_replica, e->result));
  }
  if (++e->executions >= honest_ && e->accepted) Erase(key);
}

void ReplyChecker::OnAccepted(NodeId client, const Completion& c) {
  Entry* e = Find(Key{client, c.timestamp});
  if (e == nullptr) {
    if (forgot_) {
      ++unverified_;
    } else {
      // f+1 matching replies include an honest one, which replied after executing.
      Violation(
          absl::StrFormat("at %.6f s client %d accepted result %016x for request %d, which no honest replica executed",
                          static_cast<double>(c.completed) / kSecond, client, c.result, c.timestamp));
    }
    return;
  }
  if (e->result != c.result) {
    Violation(absl::StrFormat(
        "at %.6f s client %d accepted result %016x for request %d, but honest replica %d computed %016x",
        static_cast<double>(c.completed) / kSecond, client, c.result, c.timestamp, e->first_replica, e->result));
  }
  e->accepted = true;
  if (Executions(*e) < honest_) return;
  const Key key{client, c.timestamp};
  if (e->batch != 0) {
    // Complete before its batch's last report (more reports than honest replicas): the batch's
    // later reports must find it gone, as OnExecuted would. (Settling erases it.)
    SettleForGood(e->batch);
    return;
  }
  Erase(key);
}

uint32_t ReplyChecker::Executions(const Entry& e) const {
  if (e.batch == 0) return e.executions;
  auto it = batches_.find(e.batch);
  return e.executions + (it == batches_.end() ? 0 : it->second.repeats);
}

void ReplyChecker::Settle(uint64_t position, Batch& b) {
  for (const RequestResult& r : b.results) {
    const Key key{r.client, r.timestamp};
    Entry* e = Find(key);
    if (e == nullptr || e->batch != position) continue;  // erased (or another's since)
    e->executions += b.repeats;
    e->batch = 0;
    if (e->executions >= honest_ && e->accepted) Erase(key);
  }
  b.repeats = 0;
}

void ReplyChecker::SettleForGood(uint64_t position) {
  Batch& b = batches_.at(position);
  Settle(position, b);
  b.per_request = true;
}

void ReplyChecker::Forget(const Key& key) {
  Entry* e = Find(key);
  if (e == nullptr) return;
  forgot_ = true;
  if (e->batch != 0) {
    // Its batch's later reports must find it gone, as OnExecuted would: one by one from now on.
    SettleForGood(e->batch);
    if (Find(key) == nullptr) return;  // (settled complete)
  }
  Erase(key);
}

void ReplyChecker::OnExecutedBatch(NodeId replica, uint64_t position, const RequestResult* results, size_t n,
                                   TimeNs now) {
  if (position > UINT32_MAX) {  // (beyond what an entry can name: one by one)
    for (size_t i = 0; i < n; ++i) OnExecuted(replica, results[i], now);
    return;
  }
  auto it = batches_.find(position);
  const uint64_t fingerprint = Fingerprint(results, n);
  if (it != batches_.end() && !it->second.per_request && it->second.results.size() == n &&
      it->second.fingerprint == fingerprint) {
    Batch& b = it->second;
    if (++b.repeats + 1 >= honest_) {  // every honest replica has reported it
      Settle(position, b);
      batches_.erase(it);
    }
    return;
  }
  if (it != batches_.end()) SettleForGood(position);  // a different report
  // The first report of the position creates its entries, unless some existed already.
  bool owns = it == batches_.end();
  for (size_t i = 0; i < n; ++i) {
    owns = owns && Find(Key{results[i].client, results[i].timestamp}) == nullptr;
    OnExecuted(replica, results[i], now);
  }
  if (it != batches_.end()) return;
  Batch& b = batches_[position];
  b.per_request = !owns;
  if (owns) {
    b.results.assign(results, results + n);
    b.fingerprint = fingerprint;
    for (size_t i = 0; i < n; ++i) {
      if (Entry* e = Find(Key{results[i].client, results[i].timestamp})) e->batch = static_cast<uint32_t>(position);
    }
  }
  batch_order_.push_back(position);
  while (batch_order_.size() > kMaxBatches) {
    auto old = batches_.find(batch_order_.front());
    if (old != batches_.end()) {
      Settle(old->first, old->second);
      batches_.erase(old);
    }
    batch_order_.pop_front();
  }
}

}  // namespace geopbft
