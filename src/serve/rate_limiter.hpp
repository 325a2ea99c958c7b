// Per-IP token buckets: `per_minute` requests a minute with a burst of the same size. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace pb::serve {

class RateLimiter {
 public:
  explicit RateLimiter(std::size_t per_minute) : per_minute_(per_minute) {}
  // True when `ip` may make one more request now (always true when the limit is 0 = off).
  bool allow(const std::string& ip);
  // A new rate (SIGHUP); buckets keep their tokens, capped at the new burst on their next request.
  void set_per_minute(std::size_t per_minute) { per_minute_.store(per_minute, std::memory_order_relaxed); }

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  static constexpr std::size_t kMaxTracked = 100'000;  // beyond it the table is reset (bounded memory)
  std::atomic<std::size_t> per_minute_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace pb::serve
