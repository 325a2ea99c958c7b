// Ids verified during this run but not yet committed to the index, shared by the workers so that a
// duplicate costs a lookup instead of a Schnorr verify.
//
// Each entry keeps the smallest input ordinal (global line number) at which the id was found valid.
// A worker looking at line L that finds an entry with ordinal < L knows L is a duplicate for certain:
// that earlier line (or an even earlier copy) will be stored. The writer erases entries once their rows
// are committed, after which the index answers instead; so the set only holds the in-flight window.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "nostr/event.hpp"

namespace pb {

class SeenIds {
 public:
  // Records that `id` was valid at `ordinal` (keeps the smallest ordinal).
  void note(const Id32& id, std::uint64_t ordinal);
  // The smallest ordinal recorded for `id`.
  std::optional<std::uint64_t> find(const Id32& id);
  void erase(const Id32& id);
  std::size_t size();

 private:
  struct IdHash {
    std::size_t operator()(const Id32& id) const noexcept;  // ids are sha256 output: bytes are uniform
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<Id32, std::uint64_t, IdHash> map;
  };
  static constexpr std::size_t kShards = 64;
  Shard& shard_of(const Id32& id) { return shards_[id[31] % kShards]; }
  std::array<Shard, kShards> shards_;
};

}  // namespace pb
