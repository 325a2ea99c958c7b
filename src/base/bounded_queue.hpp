// A multi-producer multi-consumer queue with a fixed capacity: the only way pipeline threads talk to each
// other, so a slow stage applies back-pressure instead of growing memory.
//
// The capacity counts items and, when T has a `queue_bytes()` member and the queue was given a byte
// budget, bytes too: the queue is full at either bound. An item is always accepted into an empty queue, so
// the bytes held never exceed the budget by more than one item, and an item larger than the budget still
// moves.
//
// Producers that may block use push(). A producer that must never block (the daemon's io thread) uses
// try_push(); after a refused try_push the queue calls the on_room() callback once, from a popping thread,
// when it has drained to half its capacity, so the producer can resume reading. Nothing pushed is ever
// dropped, except what push() refuses after close().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>

namespace pb {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity, std::size_t max_bytes = std::numeric_limits<std::size_t>::max())
      : capacity_(capacity), max_bytes_(max_bytes) {}

  // Blocks while full. Returns false (dropping `item`) once the queue is closed.
  bool push(T item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || !full(); });
    if (closed_) return false;
    bytes_ += bytes_of(item);
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Never blocks. On false (full or closed) `item` is left untouched and, unless closed, the on_room
  // callback is armed.
  bool try_push(T& item) {
    std::lock_guard lock(mu_);
    if (closed_ || full()) {
      room_wanted_ = !closed_;
      return false;
    }
    bytes_ += bytes_of(item);
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Called (on a popping thread, without the queue's lock) after a refused try_push, once the queue is at
  // or below half full (items and bytes).
  void on_room(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    on_room_ = std::move(fn);
  }

  // Blocks while empty. Returns nullopt once the queue is closed and drained.
  std::optional<T> pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    return take(lock);
  }

  // Like pop(), but also returns nullopt when the deadline passes first (drained() tells the two apart).
  std::optional<T> pop_until(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    not_empty_.wait_until(lock, deadline, [&] { return closed_ || !items_.empty(); });
    return take(lock);
  }

  // No more pushes; poppers drain what is left, then get nullopt.
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  bool drained() {
    std::lock_guard lock(mu_);
    return closed_ && items_.empty();
  }

  std::size_t size() {
    std::lock_guard lock(mu_);
    return items_.size();
  }

  // What the queued items report through queue_bytes() (0 when T has no such member).
  std::size_t bytes() {
    std::lock_guard lock(mu_);
    return bytes_;
  }

 private:
  static std::size_t bytes_of(const T& item) {
    if constexpr (requires { item.queue_bytes(); }) return item.queue_bytes();
    else return 0;
  }
  bool full() const { return !items_.empty() && (items_.size() >= capacity_ || bytes_ >= max_bytes_); }

  std::optional<T> take(std::unique_lock<std::mutex>& lock) {
    if (items_.empty()) return std::nullopt;
    std::optional<T> out(std::move(items_.front()));
    items_.pop_front();
    bytes_ -= bytes_of(*out);
    not_full_.notify_one();
    std::function<void()> notify;
    if (room_wanted_ && items_.size() <= capacity_ / 2 && bytes_ <= max_bytes_ / 2) {
      room_wanted_ = false;
      notify = on_room_;
    }
    lock.unlock();
    if (notify) notify();
    return out;
  }

  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
  std::size_t capacity_, max_bytes_;
  std::size_t bytes_ = 0;
  bool closed_ = false;
  bool room_wanted_ = false;
  std::function<void()> on_room_;
};

}  // namespace pb
