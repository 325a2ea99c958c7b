#include "daemon/discovery_limits.hpp"

namespace pb::daemon {

std::optional<boost::asio::ip::address> IpSlots::reserve(const std::string& url,
                                                         std::span<const boost::asio::ip::address> addresses) {
  release(url);
  for (const auto& a : addresses) {
    if (used(a) >= per_ip_) continue;
    by_url_.emplace(url, a);
    ++count_[a];
    return a;
  }
  return std::nullopt;
}

void IpSlots::release(const std::string& url) {
  const auto it = by_url_.find(url);
  if (it == by_url_.end()) return;
  if (auto c = count_.find(it->second); c != count_.end() && --c->second == 0) count_.erase(c);
  by_url_.erase(it);
}

std::size_t IpSlots::used(const boost::asio::ip::address& a) const {
  const auto it = count_.find(a);
  return it == count_.end() ? 0 : it->second;
}

bool ConnectRateLimit::try_take(Clock::time_point now) {
  while (!granted_.empty() && now - granted_.front() >= std::chrono::minutes(1)) granted_.pop_front();
  if (granted_.size() >= per_minute_) return false;
  granted_.push_back(now);
  return true;
}

}  // namespace pb::daemon
