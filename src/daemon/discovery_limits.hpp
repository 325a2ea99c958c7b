// Caps on discovered connections: at most N per IP address (so many names for one host cannot make us
// hammer it) and at most M new discovered relays started per minute. Times are passed in (tests use their
// own clock). io thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>

#include <boost/asio/ip/address.hpp>

namespace pb::daemon {

inline constexpr std::size_t kMaxConnectionsPerIp = 2;

class IpSlots {
 public:
  explicit IpSlots(std::size_t per_ip = kMaxConnectionsPerIp) : per_ip_(per_ip) {}
  // Releases url's previous address, then reserves the first of `addresses` that has a free slot and
  // returns it; nothing when every one is taken.
  std::optional<boost::asio::ip::address> reserve(const std::string& url, std::span<const boost::asio::ip::address> addresses);
  void release(const std::string& url);
  std::size_t used(const boost::asio::ip::address& a) const;

 private:
  std::size_t per_ip_;
  std::map<std::string, boost::asio::ip::address> by_url_;
  std::map<boost::asio::ip::address, std::size_t> count_;
};

// A sliding window: at most `per_minute` grants within any 60 seconds.
class ConnectRateLimit {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ConnectRateLimit(std::size_t per_minute) : per_minute_(per_minute) {}
  bool try_take(Clock::time_point now);

 private:
  std::size_t per_minute_;
  std::deque<Clock::time_point> granted_;  // within the last minute, oldest first
};

}  // namespace pb::daemon
