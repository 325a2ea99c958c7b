// A small LRU of decoded gzip members, shared by the query workers and bounded in bytes: each cache miss
// costs decompressing one member (~128 KiB of records), so popular members (the newest day, a busy author) stay decoded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "archive/member_read.hpp"
#include "serve/event_cache.hpp"
#include "serve/inflated_copy.hpp"
#include "nostr/event.hpp"

namespace pb::serve {

// One member, inflated but not decoded: its records back to back and where each id's record is (sorted
// by id). A query usually wants a few events of a member, so decoding only those (find) costs far less
// than decoding all ~1,500 (perf: protobuf decode and the allocations of every record were ~40% of a
// miss), and raw records take less memory than decoded events, so the cache holds more members.
struct DecodedMember {
  struct Slot {
    std::uint64_t head = 0;  // the id's first 8 bytes, big-endian: ordered as the ids, compared in one step
    Id32 id{};
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
  };
  static std::uint64_t head_of(const Id32& id);
  std::string records;                // inflated here, or empty when `data` is in the inflated copy's mapping
  std::shared_ptr<const void> mapped;  // keeps that mapping
  std::string_view data;               // the records
  std::vector<Slot> slots;
  std::size_t bytes = 0;  // approximate heap held (mapped pages are the OS page cache's)
  // The event with this id, decoded now; nothing when the member has no such (decodable) record.
  std::optional<Event> find(const Id32& id) const;
  // The record of this id, as stored; nothing when the member has none.
  std::optional<std::string_view> record(const Id32& id) const;
};

struct MemberCacheStats {
  std::uint64_t hits = 0, misses = 0, bytes = 0, members = 0;
};

class MemberCache {
 public:
  // `event_bytes`: the budget of the event cache beside it (event_cache.hpp), on top of max_bytes.
  MemberCache(std::filesystem::path dir, std::size_t max_bytes, std::size_t event_bytes = 0)
      : dir_(std::move(dir)), max_bytes_(max_bytes), events_(event_bytes) {}

  // The decoded member at `offset` of day file `file_name` (decoded on a miss, outside the lock; `missed`,
  // when given, tells which). Throws std::runtime_error when the file cannot be read; a damaged member
  // yields what decoded cleanly.
  std::shared_ptr<const DecodedMember> get(const std::string& file_name, std::uint64_t offset,
                                           bool* missed = nullptr);
  // The same, but a miss is decoded for the caller alone and a hit does not count as use: for one-off
  // scans (the deletion set's build) that must not flush what queries keep here.
  std::shared_ptr<const DecodedMember> get_uncached(const std::string& file_name, std::uint64_t offset);
  EventCache& events() { return events_; }
  // Misses take members from `copy` when it has them (set before the first get and the copy's first
  // refresh; it must outlive this). Members of a day file whose copy is replaced are dropped.
  void use_inflated_copy(InflatedCopy* copy);
  const InflatedCopy* inflated_copy() const { return copy_; }
  MemberCacheStats stats() const;
  // Drops the entry, if any (compaction replaced the file it was decoded from).
  void forget(const std::string& file_name, std::uint64_t offset);
  // Drops every entry of that day file.
  void forget_file(const std::string& file_name);

 private:
  // A member's place. Looked up by KeyView: a hit builds no string (it was an allocation per row).
  struct Key {
    std::string file_name;
    std::uint64_t offset = 0;
  };
  struct KeyView {
    std::string_view file_name;
    std::uint64_t offset = 0;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(const KeyView& k) const noexcept {
      return std::hash<std::string_view>{}(k.file_name) ^ (k.offset * 0x9e3779b97f4a7c15ull);
    }
    std::size_t operator()(const Key& k) const noexcept { return (*this)(KeyView{k.file_name, k.offset}); }
  };
  struct KeyEq {
    using is_transparent = void;
    static KeyView view(const Key& k) { return {k.file_name, k.offset}; }
    static KeyView view(const KeyView& k) { return k; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
      return view(a).offset == view(b).offset && view(a).file_name == view(b).file_name;
    }
  };
  struct Entry {
    std::shared_ptr<const DecodedMember> member;
    std::list<Key>::iterator lru;
  };
  std::shared_ptr<const DecodedMember> decode(const std::string& file_name, std::uint64_t offset);
  // The member's records through a pooled inflater (its buffers are reused from miss to miss).
  std::optional<std::string> inflate(const std::filesystem::path& file, std::uint64_t offset);
  void insert_locked(const Key& key, std::shared_ptr<const DecodedMember> member);

  std::filesystem::path dir_;
  std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Key> lru_;  // front = most recently used
  std::unordered_map<Key, Entry, KeyHash, KeyEq> map_;
  std::size_t bytes_ = 0;
  std::uint64_t hits_ = 0, misses_ = 0;
  std::vector<std::unique_ptr<MemberInflater>> inflaters_;  // idle ones; at most one per decoding thread
  EventCache events_;
  InflatedCopy* copy_ = nullptr;
};

}  // namespace pb::serve
