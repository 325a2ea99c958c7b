// A bounded queue for the daemon's stages. Unlike base/BoundedQueue it offers a non-blocking try_push for
// the io thread (which must never block): a failed try_push arms a one-shot "room again" callback that
// fires (from a popping thread) once the queue has drained to its low-water mark, so the producer can
// resume a paused relay. Nothing pushed is ever dropped except after close().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

namespace pb::daemon {

template <typename T>
class WorkQueue {
 public:
  explicit WorkQueue(std::size_t capacity) : capacity_(capacity), low_water_(capacity / 2) {}

  // Called (on a popping thread) after a failed try_push, once the queue is at or below half full.
  void on_room(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    on_room_ = std::move(fn);
  }

  // Non-blocking; on false `item` is left untouched.
  bool try_push(T& item) {
    std::lock_guard lock(mu_);
    if (closed_ || items_.size() >= capacity_) {
      room_wanted_ = !closed_;
      return false;
    }
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Blocks while full. False once closed.
  bool push(T item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Waits until an item arrives, the deadline passes (nullopt) or the queue is closed and drained (nullopt,
  // and drained() turns true).
  std::optional<T> pop_until(std::chrono::steady_clock::time_point deadline) {
    std::function<void()> notify;
    std::optional<T> out;
    {
      std::unique_lock lock(mu_);
      not_empty_.wait_until(lock, deadline, [&] { return closed_ || !items_.empty(); });
      if (items_.empty()) return std::nullopt;
      out.emplace(std::move(items_.front()));
      items_.pop_front();
      not_full_.notify_one();
      if (room_wanted_ && items_.size() <= low_water_) {
        room_wanted_ = false;
        notify = on_room_;
      }
    }
    if (notify) notify();
    return out;
  }

  std::optional<T> pop() { return pop_until(std::chrono::steady_clock::time_point::max()); }

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

 private:
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
  std::size_t capacity_, low_water_;
  bool closed_ = false;
  bool room_wanted_ = false;
  std::function<void()> on_room_;
};

}  // namespace pb::daemon
