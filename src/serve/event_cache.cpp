#include "serve/event_cache.hpp"

#include <bit>
#include <cstring>


namespace pb::serve {
namespace {

// Ids are SHA-256 digests: their bytes are already uniform, so slices of them serve as hashes (the map
// uses bytes 0-7 through Id32Hash; the first-offer table bytes 8-15 and 16-19).
std::uint64_t id_bits(const Id32& id, std::size_t at) {
  std::uint64_t v = 0;
  std::memcpy(&v, id.data() + at, sizeof v);
  return v;
}

}  // namespace

EventCache::EventCache(std::size_t max_bytes) : max_bytes_(max_bytes) {
  // About one slot per 64 bytes of budget (64 MiB: 1M slots, 4 MiB): far more slots than cached events,
  // so a first request is remembered across many others.
  if (max_bytes_ > 0) seen_.resize(std::bit_ceil(std::max<std::size_t>(max_bytes_ / 64, 1024)));
}

bool EventCache::get(const Id32& id, std::string& record) {
  std::lock_guard lock(mu_);
  const auto it = map_.find(id);
  if (it == map_.end()) return false;
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  record.assign(it->second.record);
  return true;
}

void EventCache::offer(const Id32& id, std::string_view record) {
  if (max_bytes_ == 0 || record.size() + kEntryOverhead > max_bytes_) return;
  const std::size_t slot = static_cast<std::size_t>(id_bits(id, 8)) & (seen_.size() - 1);
  const auto fingerprint = static_cast<std::uint32_t>(id_bits(id, 16)) | 1u;  // 0 marks an empty slot
  const std::size_t size = record.size() + kEntryOverhead;
  std::lock_guard lock(mu_);
  // While there is room, every offer is kept; once full, only an event offered before, so that one scan
  // of events asked for once does not push out the ones asked for again and again.
  if (bytes_ + size > max_bytes_ && seen_[slot] != fingerprint) {
    seen_[slot] = fingerprint;
    return;
  }
  seen_[slot] = 0;
  if (map_.count(id)) return;
  lru_.push_front(id);
  map_.emplace(id, Entry{std::string(record), lru_.begin()});
  bytes_ += size;
  ++admitted_;
  evict_locked();
}

void EventCache::evict_locked() {
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    const auto it = map_.find(lru_.back());
    bytes_ -= it->second.record.size() + kEntryOverhead;
    map_.erase(it);
    lru_.pop_back();
  }
}

EventCacheStats EventCache::stats() const {
  std::lock_guard lock(mu_);
  return {hits_, admitted_, bytes_, map_.size()};
}

}  // namespace pb::serve
