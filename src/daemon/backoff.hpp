// Reconnect delays: exponential from min to max with jitter (50-100% of the step), reset after a
// connection stayed open for a stable period.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace pb::daemon {

class Backoff {
 public:
  Backoff(std::int64_t min_ms, std::int64_t max_ms) : min_ms_(min_ms), max_ms_(max_ms), rng_(std::random_device{}()) {}

  std::chrono::milliseconds next() {
    double step = static_cast<double>(min_ms_);
    for (unsigned i = 0; i < failures_ && step < static_cast<double>(max_ms_); ++i) step *= 2;
    step = std::min(step, static_cast<double>(max_ms_));
    ++failures_;
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return std::chrono::milliseconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(step * jitter(rng_))));
  }
  void reset() { failures_ = 0; }
  unsigned failures() const { return failures_; }

 private:
  std::int64_t min_ms_, max_ms_;
  unsigned failures_ = 0;
  std::minstd_rand rng_;
};

}  // namespace pb::daemon
