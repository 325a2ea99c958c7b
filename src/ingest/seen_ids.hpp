// Ids verified during this run but not yet committed to the index, shared by the workers so that a
// duplicate costs a lookup instead of a Schnorr verify.
//
// Each entry keeps the smallest input ordinal (global line number) at which the id was found valid.
// A worker looking at line L that finds an entry with ordinal < L knows L is a duplicate for certain:
// that earlier line (or an even earlier copy) will be stored. The writer erases entries once their rows
// are committed, after which the index answers instead; so the set only holds the in-flight window.
//
// Verification claims (the daemon): relays send the same event at nearly the same moment, so both copies
// used to reach workers before either was verified, and both were verified. The first worker to reach an
// id now claims it; a worker meeting a claimed id waits for that verdict (a verify is ~40 us) and verifies
// only if the claimant's copy failed: a forged copy never keeps a genuine one out.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>

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

  enum class Claim { verified, claimed };
  // `verified` when `id` is recorded (now, or after waiting for another worker's claim on it to be
  // settled as valid); otherwise the caller now holds the claim and must settle() it, whatever happens.
  Claim claim_or_wait(const Id32& id);
  // Ends the caller's claim; `valid` records the id as note(id, ordinal) would, and wakes the waiters.
  void settle(const Id32& id, bool valid, std::uint64_t ordinal = 0);

 private:
  struct Shard {
    std::mutex mu;
    std::unordered_map<Id32, std::uint64_t, Id32Hash> map;
    std::unordered_set<Id32, Id32Hash> claimed;  // being verified by some worker
    std::condition_variable settled;           // a claim of this shard ended
  };
  static void record(Shard& s, const Id32& id, std::uint64_t ordinal);  // keeps the smallest; s.mu held
  static constexpr std::size_t kShards = 64;
  Shard& shard_of(const Id32& id) { return shards_[id[31] % kShards]; }
  std::array<Shard, kShards> shards_;
};

}  // namespace pb
