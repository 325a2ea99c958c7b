// A small LRU of decoded gzip members, shared by the query workers and bounded in bytes: each cache miss
// costs decompressing one ~1 MiB member, so popular members (the newest day, a busy author) stay decoded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "nostr/event.hpp"

namespace pb::serve {

// The events of one member, sorted by id (find() is a binary search).
struct DecodedMember {
  std::vector<Event> events;
  std::size_t bytes = 0;  // approximate memory held
  const Event* find(const Id32& id) const;
};

struct MemberCacheStats {
  std::uint64_t hits = 0, misses = 0, bytes = 0, members = 0;
};

class MemberCache {
 public:
  MemberCache(std::filesystem::path dir, std::size_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {}

  // The decoded member at `offset` of day file `file_name` (decoded on a miss, outside the lock).
  // Throws std::runtime_error when the file cannot be read; a damaged member yields what decoded cleanly.
  std::shared_ptr<const DecodedMember> get(const std::string& file_name, std::uint64_t offset);
  MemberCacheStats stats() const;
  // Drops the entry, if any (compaction replaced the file it was decoded from).
  void forget(const std::string& file_name, std::uint64_t offset);

 private:
  using Key = std::string;  // file_name + '@' + offset
  struct Entry {
    std::shared_ptr<const DecodedMember> member;
    std::list<Key>::iterator lru;
  };
  std::shared_ptr<const DecodedMember> decode(const std::string& file_name, std::uint64_t offset) const;
  void insert_locked(const Key& key, std::shared_ptr<const DecodedMember> member);

  std::filesystem::path dir_;
  std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Key> lru_;  // front = most recently used
  std::unordered_map<Key, Entry> map_;
  std::size_t bytes_ = 0;
  std::uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace pb::serve
