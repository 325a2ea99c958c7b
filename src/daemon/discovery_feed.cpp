#include "daemon/discovery_feed.hpp"

namespace pb::daemon {

void DiscoveryFeed::add(std::span<const RelayHint> hints) {
  std::lock_guard lock(mu_);
  for (const auto& h : hints) {
    auto it = pending_.find(h.url);
    if (it == pending_.end()) {
      if (pending_.size() >= max_pending_) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      it = pending_.emplace(h.url, Entry{}).first;
    }
    it->second.sources |= static_cast<std::uint8_t>(h.source);
    ++it->second.mentions;
  }
}

std::vector<PendingHint> DiscoveryFeed::take() {
  std::unordered_map<std::string, Entry> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(pending_);
  }
  std::vector<PendingHint> out;
  out.reserve(batch.size());
  for (auto& [url, e] : batch) out.push_back({url, e.sources, e.mentions});
  return out;
}

}  // namespace pb::daemon
