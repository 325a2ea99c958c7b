#include "ingest/seen_ids.hpp"


namespace pb {

void SeenIds::record(Shard& s, const Id32& id, std::uint64_t ordinal) {
  auto [it, inserted] = s.map.try_emplace(id, ordinal);
  if (!inserted && ordinal < it->second) it->second = ordinal;
}

void SeenIds::note(const Id32& id, std::uint64_t ordinal) {
  Shard& s = shard_of(id);
  std::lock_guard lock(s.mu);
  record(s, id, ordinal);
}

std::optional<std::uint64_t> SeenIds::find(const Id32& id) {
  Shard& s = shard_of(id);
  std::lock_guard lock(s.mu);
  auto it = s.map.find(id);
  if (it == s.map.end()) return std::nullopt;
  return it->second;
}

void SeenIds::erase(const Id32& id) {
  Shard& s = shard_of(id);
  std::lock_guard lock(s.mu);
  s.map.erase(id);
}

SeenIds::Claim SeenIds::claim_or_wait(const Id32& id) {
  Shard& s = shard_of(id);
  std::unique_lock lock(s.mu);
  for (;;) {
    if (s.map.contains(id)) return Claim::verified;
    if (s.claimed.insert(id).second) return Claim::claimed;
    s.settled.wait(lock);  // a claimant never waits, so this always ends
  }
}

void SeenIds::settle(const Id32& id, bool valid, std::uint64_t ordinal) {
  Shard& s = shard_of(id);
  {
    std::lock_guard lock(s.mu);
    if (valid) record(s, id, ordinal);
    s.claimed.erase(id);
  }
  s.settled.notify_all();
}

std::size_t SeenIds::size() {
  std::size_t n = 0;
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.map.size();
  }
  return n;
}

}  // namespace pb
