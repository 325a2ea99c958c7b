// Hand-over of relay hints from the writer thread (events just stored) to discovery on the io thread.
// Mentions of the same raw URL are summed while they wait; at most max_pending distinct URLs wait (more
// are dropped and counted: a flood of distinct junk URLs costs bounded memory).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/discovery_hints.hpp"

namespace pb::daemon {

struct PendingHint {
  std::string url;           // raw, as in the event
  std::uint8_t sources = 0;  // HintSource bits
  std::uint64_t mentions = 0;
};

class DiscoveryFeed {
 public:
  explicit DiscoveryFeed(std::size_t max_pending = 20'000) : max_pending_(max_pending) {}
  // One stored event's hints (each counts one mention). Any thread.
  void add(std::span<const RelayHint> hints);
  // Everything added since the last take, in no particular order.
  std::vector<PendingHint> take();
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    std::uint8_t sources = 0;
    std::uint64_t mentions = 0;
  };
  std::size_t max_pending_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> pending_;
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace pb::daemon
