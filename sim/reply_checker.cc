#include "sim/reply_checker.h"

#include "absl/strings/str_format.h"

namespace geopbft {

void ReplyChecker::Violation(std::string what) {
  if (violations_++ == 0) first_violation_ = std::move(what);
}

void ReplyChecker::OnExecuted(NodeId replica, const RequestResult& r, TimeNs now) {
  const Key key{r.client, r.timestamp};
  auto it = requests_.find(key);
  if (it == requests_.end()) {
    // A crashed replica, or one that caught up by state transfer, never executes some requests:
    // forget the oldest rather than grow without bound.
    while (order_.size() >= kMaxTracked) {
      auto old = requests_.find(order_.front());
      if (old != requests_.end()) {
        forgot_ = true;
        requests_.erase(old);
      }
      order_.pop_front();
    }
    it = requests_.emplace(key, Entry{r.result, replica, 0, false}).first;
    order_.push_back(key);
  } else if (it->second.result != r.result) {
    Violation(absl::StrFormat(
        "at %.6f s replica %d executed request %d of client %d with result %016x, but replica %d with %016x",
        static_cast<double>(now) / kSecond, replica, r.timestamp, r.client, r.result, it->second.first_replica,
        it->second.result));
  }
  if (++it->second.executions >= honest_ && it->second.accepted) requests_.erase(it);
}

void ReplyChecker::OnAccepted(NodeId client, const Completion& c) {
  auto it = requests_.find(Key{client, c.timestamp});
  if (it == requests_.end()) {
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
  Entry& e = it->second;
  if (e.result != c.result) {
    Violation(absl::StrFormat(
        "at %.6f s client %d accepted result %016x for request %d, but honest replica %d computed %016x",
        static_cast<double>(c.completed) / kSecond, client, c.result, c.timestamp, e.first_replica, e.result));
  }
  e.accepted = true;
  if (e.executions >= honest_) requests_.erase(it);
}

}  // namespace geopbft
