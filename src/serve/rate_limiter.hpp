// Per-IP token buckets: `per_minute` requests a minute with a burst of the same size. Thread-safe.
#pragma once

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

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  static constexpr std::size_t kMaxTracked = 100'000;  // beyond it the table is reset (bounded memory)
  std::size_t per_minute_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace pb::serve
