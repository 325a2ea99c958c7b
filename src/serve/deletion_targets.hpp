// What a NIP-09 deletion could hide: the tag keys (IndexTag) of the `e` ids and `a` addresses named by
// every kind-5 event committed up to a seq. Nearly no event is ever named by a deletion, so the query
// engine asks this set first and runs its exact SQL check only for an event whose key is in it. Keys are
// 56-bit hashes: the set may name an event no deletion names (the SQL check then clears it), never the
// other way round for the seqs it covers.
// Built once in the background at start (build(): every kind-5 event read from its member; until it is
// done every check goes to SQL), then caught up by the engines with the deletions committed since.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <memory>
#include <stop_token>
#include <unordered_set>

#include "archive/index.hpp"

namespace pb::serve {

struct DeletionTargetsStats {
  bool ready = false;             // built, and no kind-5 event was unreadable
  std::uint64_t keys = 0;         // distinct e/a keys named by deletions
  std::uint64_t deletions = 0;    // kind-5 events read
  std::uint64_t cleared = 0;      // checks answered "not deleted" without SQL
};

class DeletionTargets {
 public:
  using Loader = std::function<std::optional<Event>(const IndexRow&)>;
  using Keys = std::unordered_set<std::int64_t>;

  // An immutable view, taken once per slice and read without locks: a large base and a small delta of
  // what came since, so a catch-up copies the delta, not the whole set (the base is rebuilt only once the
  // delta has grown to an eighth of it).
  struct Snapshot {
    std::shared_ptr<const Keys> base, delta;
    bool may_target(IndexTag key) const { return base->contains(key.key) || delta->contains(key.key); }
  };
  Snapshot snapshot() const;

  // Every deletion with seq <= covered() is in the set; -1 until build() has finished (or when a
  // kind-5 event could not be read: then the set is never used).
  std::int64_t covered() const { return covered_.load(std::memory_order_acquire); }
  // Whether a deletion up to covered() may name this key (an `e` id's or an `a` address's IndexTag).
  bool may_target(IndexTag key) const { return snapshot().may_target(key); }
  void count_cleared(std::uint64_t n) { cleared_.fetch_add(n, std::memory_order_relaxed); }

  // The first build: the rows up to `upto` in seq order (a day file's rows follow its members, so each
  // member is read about once). Returns early, leaving the set unused, when `stop` is requested.
  void build(ArchiveIndex& index, std::int64_t upto, const Loader& load, std::stop_token stop = {});
  // Adds the deletions committed after covered(), reading at most `max_rows` rows towards `upto` (a
  // query's slice pays for a bounded part of a big backlog, e.g. after a convert into the served archive).
  // True when the set then covers `upto`. Nothing before build() has finished; false at once while
  // another thread is catching up (the caller checks in SQL meanwhile).
  bool catch_up(ArchiveIndex& index, std::int64_t upto, const Loader& load, std::size_t max_rows = kCatchUpRows);
  static constexpr std::size_t kCatchUpRows = 16384;

  DeletionTargetsStats stats() const;

 private:
  // Reads up to `max_rows` rows after `from`, not past `upto`: the seq every row up to which was read, or
  // nothing if a kind-5 event could not be read.
  std::optional<std::int64_t> collect(ArchiveIndex& index, std::int64_t from, std::int64_t upto, std::size_t max_rows,
                                      const Loader& load, Keys& keys, std::uint64_t& deletions);
  void publish(Keys& keys, std::uint64_t deletions, std::int64_t covered);

  mutable std::mutex mu_;  // guards the two pointers (the sets they point to never change)
  std::shared_ptr<const Keys> base_ = std::make_shared<const Keys>();
  std::shared_ptr<const Keys> delta_ = std::make_shared<const Keys>();
  std::atomic<std::int64_t> covered_{-1};
  std::mutex catch_up_mu_;  // one catch-up at a time; the others wait and find it done
  bool broken_ = false;     // guarded by catch_up_mu_
  std::atomic<std::uint64_t> deletions_{0}, cleared_{0};
};

}  // namespace pb::serve
