// A double-ended queue in one ring of power-of-two size. Element i is at (head + i) & mask: one add
// and one mask, where std::deque finds the block first (a division and two loads). The per-request
// tables that every replica updates for every executed request (executed timestamps, kept answers,
// the reply checker's windows) are deques indexed at random; with std::deque their indexing and
// iterator arithmetic were a seventh of a default run's instructions.
//
// Storage doubles when full and halves when a quarter full (so a table that shrank gives memory
// back over a long run). Elements must be default-constructible and cheap to move; the ring holds
// default-constructed ones in its free slots.
#ifndef GEOPBFT_PROTOCOL_RING_DEQUE_H_
#define GEOPBFT_PROTOCOL_RING_DEQUE_H_

#include <cstddef>
#include <utility>
#include <vector>

namespace geopbft {

template <typename T>
class RingDeque {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return ring_.size(); }

  T& operator[](size_t i) { return ring_[(head_ + i) & mask_]; }
  const T& operator[](size_t i) const { return ring_[(head_ + i) & mask_]; }
  T& front() { return ring_[head_]; }
  const T& front() const { return ring_[head_]; }
  T& back() { return (*this)[size_ - 1]; }
  const T& back() const { return (*this)[size_ - 1]; }

  void push_back(T v) {
    if (size_ == ring_.size()) Reshape(Grown());
    ring_[(head_ + size_) & mask_] = std::move(v);
    ++size_;
  }
  void push_front(T v) {
    if (size_ == ring_.size()) Reshape(Grown());
    head_ = (head_ + mask_) & mask_;  // (head - 1) mod capacity
    ring_[head_] = std::move(v);
    ++size_;
  }
  void pop_front() {
    ring_[head_] = T();
    head_ = (head_ + 1) & mask_;
    --size_;
    MaybeShrink();
  }
  void pop_back() {
    (*this)[size_ - 1] = T();
    --size_;
    MaybeShrink();
  }
  // Inserts `v` before element `i` (i <= size), moving the elements after it one place back.
  void insert(size_t i, T v) {
    push_back(T());
    for (size_t j = size_ - 1; j > i; --j) (*this)[j] = std::move((*this)[j - 1]);
    (*this)[i] = std::move(v);
  }
  // Appends copies of `v` until it holds `n` elements (n >= size).
  void grow_to(size_t n, const T& v) {
    while (size_ < n) push_back(v);
  }
  // Empties it, keeping its storage.
  void clear() {
    for (size_t i = 0; i < size_; ++i) (*this)[i] = T();
    head_ = size_ = 0;
  }

 private:
  static constexpr size_t kMinCapacity = 8;
  size_t Grown() const { return ring_.empty() ? kMinCapacity : 2 * ring_.size(); }
  void MaybeShrink() {
    if (ring_.size() > kMinCapacity && size_ * 4 <= ring_.size()) Reshape(ring_.size() / 2);
  }
  // Moves the elements, in order, into a ring of `capacity` (a power of two, >= size).
  void Reshape(size_t capacity) {
    std::vector<T> ring(capacity);
    for (size_t i = 0; i < size_; ++i) ring[i] = std::move((*this)[i]);
    ring_.swap(ring);
    head_ = 0;
    mask_ = capacity - 1;
  }

  std::vector<T> ring_;
  size_t head_ = 0;
  size_t size_ = 0;
  size_t mask_ = 0;
};

}  // namespace geopbft

#endif  // GEOPBFT_PROTOCOL_RING_DEQUE_H_
