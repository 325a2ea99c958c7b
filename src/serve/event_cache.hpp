// The records of events asked for more than once whose members were not in the member cache: a popular
// thread's reactions or profile, spread over hundreds of ~128 KiB members, stay here at ~1 KiB each. Once
// the cache is full, an event enters only on its second such request (a table of id fingerprints
// remembers first ones), so a scan that reads each event once does not flush it; events whose members
// are cached are never offered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nostr/event.hpp"

namespace pb::serve {

struct EventCacheStats {
  std::uint64_t hits = 0, admitted = 0, bytes = 0, events = 0;
};

class EventCache {
 public:
  // max_bytes 0: disabled (get finds nothing, offer keeps nothing).
  explicit EventCache(std::size_t max_bytes);

  // The stored record of the event with this id, copied into `record`; false when it is not cached.
  bool get(const Id32& id, std::string& record);
  // An event read from a member that was not cached: kept if there is room, or if it was offered before
  // (recently); the least recently used events make room.
  void offer(const Id32& id, std::string_view record);
  EventCacheStats stats() const;

 private:
  struct Entry {
    std::string record;
    std::list<Id32>::iterator lru;
  };
  static constexpr std::size_t kEntryOverhead = 128;  // map node, list node, string header (approximate)
  void evict_locked();

  std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Id32> lru_;  // front = most recently used
  std::unordered_map<Id32, Entry, Id32Hash> map_;
  std::vector<std::uint32_t> seen_;  // fingerprints of first offers, one slot per hash (overwritten)
  std::size_t bytes_ = 0;
  std::uint64_t hits_ = 0, admitted_ = 0;
};

}  // namespace pb::serve
