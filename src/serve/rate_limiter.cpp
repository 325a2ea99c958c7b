#include "serve/rate_limiter.hpp"

#include <algorithm>

namespace pb::serve {

bool RateLimiter::allow(const std::string& ip) {
  const auto per_minute = static_cast<double>(per_minute_.load(std::memory_order_relaxed));
  if (per_minute == 0) return true;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  if (buckets_.size() >= kMaxTracked && !buckets_.count(ip)) buckets_.clear();
  auto [it, fresh] = buckets_.try_emplace(ip, Bucket{per_minute, now});
  Bucket& b = it->second;
  if (!fresh) {
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(per_minute, b.tokens + elapsed * per_minute / 60.0);
    b.last = now;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

}  // namespace pb::serve
