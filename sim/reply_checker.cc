#include "sim/reply_checker.h"

#include "absl/strings/str_format.h"

namespace geopbft {

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
  if (e == nullptr) {
    // A crashed replica, or one that caught up by state transfer, never executes some requests:
    // forget the oldest rather than grow without bound.
    while (order_.size() >= kMaxTracked) {
      if (Find(order_.front()) != nullptr) {
        forgot_ = true;
        Erase(order_.front());
      }
      order_.pop_front();
    }
    e = &Insert(key, Entry{r.result, replica, 0, false});
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
  if (e->executions >= honest_) Erase(Key{client, c.timestamp});
}

}  // namespace geopbft
