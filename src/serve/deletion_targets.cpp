#include "serve/deletion_targets.hpp"

#include <spdlog/spdlog.h>

#include "nostr/hex.hpp"

namespace pb::serve {
namespace {

constexpr std::size_t kRowsPerRead = 4096;
constexpr std::int64_t kKindDeletion = 5;

bool names_an_event(IndexTag t) {
  const auto name = static_cast<char>(static_cast<std::uint64_t>(t.key) >> 56);
  return name == 'e' || name == 'a';
}

}  // namespace

DeletionTargets::Snapshot DeletionTargets::snapshot() const {
  std::lock_guard lock(mu_);
  return {base_, delta_};
}

std::optional<std::int64_t> DeletionTargets::collect(ArchiveIndex& index, std::int64_t from, std::int64_t upto,
                                                     std::size_t max_rows, const Loader& load, Keys& keys,
                                                     std::uint64_t& deletions) {
  Sha256Hasher hasher;
  std::size_t read = 0;
  std::int64_t at = from;
  while (at < upto && read < max_rows) {
    const auto rows = index.rows_after(at, std::min(kRowsPerRead, max_rows - read));
    if (rows.empty()) return upto;  // nothing more is committed up to upto (it was read on this connection)
    read += rows.size();
    for (const IndexRow& row : rows) {
      if (row.seq > upto) return upto;
      at = row.seq;
      if (row.kind != kKindDeletion) continue;
      const auto ev = load(row);
      if (!ev) {
        spdlog::warn("serve: deletion {} (seq {}) could not be read: deletions are checked in the index only",
                     to_hex(row.id), row.seq);
        return std::nullopt;
      }
      ++deletions;
      for (const IndexTag t : index_tags(*ev, hasher))
        if (names_an_event(t)) keys.insert(t.key);
    }
  }
  return at;
}

void DeletionTargets::publish(Keys& keys, std::uint64_t deletions, std::int64_t covered) {
  constexpr std::size_t kMinDelta = 4096;
  // Built outside the lock (only catch-ups publish, one at a time): readers keep the old sets meanwhile.
  Snapshot now = snapshot();
  if (!keys.empty()) {
    auto delta = std::make_shared<Keys>(*now.delta);
    for (const std::int64_t k : keys)
      if (!now.base->contains(k)) delta->insert(k);
    if (delta->size() > std::max(kMinDelta, now.base->size() / 8)) {
      auto base = std::make_shared<Keys>(*now.base);
      base->merge(*delta);
      now.base = std::move(base);
      now.delta = std::make_shared<const Keys>();
    } else {
      now.delta = std::move(delta);
    }
  }
  {
    std::lock_guard lock(mu_);
    base_ = std::move(now.base);
    delta_ = std::move(now.delta);
  }
  deletions_ += deletions;
  covered_.store(covered, std::memory_order_release);
}

void DeletionTargets::build(ArchiveIndex& index, std::int64_t upto, const Loader& load, std::stop_token stop) {
  std::lock_guard lock(catch_up_mu_);
  if (covered() >= 0 || broken_) return;
  Keys keys;
  std::uint64_t deletions = 0;
  std::int64_t at = 0;
  while (at < upto && !stop.stop_requested()) {  // in steps, so a stop is seen within one step
    const auto reached = collect(index, at, upto, kRowsPerRead, load, keys, deletions);
    if (!reached) {
      broken_ = true;
      return;
    }
    at = *reached;
  }
  if (stop.stop_requested()) return;
  const std::size_t named = keys.size();
  publish(keys, deletions, upto);
  spdlog::info("serve: {} deletions name {} events or addresses (up to seq {})", deletions, named, upto);
}

bool DeletionTargets::catch_up(ArchiveIndex& index, std::int64_t upto, const Loader& load, std::size_t max_rows) {
  if (const auto c = covered(); c < 0 || c >= upto) return c >= upto;
  // One catch-up at a time; the others go on without the set (SQL) rather than wait for it.
  std::unique_lock lock(catch_up_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return false;
  const std::int64_t from = covered();
  if (from < 0 || broken_) return false;
  if (from >= upto) return true;
  Keys keys;
  std::uint64_t deletions = 0;
  const auto reached = collect(index, from, upto, max_rows, load, keys, deletions);
  if (!reached) {
    broken_ = true;
    covered_.store(-1, std::memory_order_release);
    return false;
  }
  publish(keys, deletions, *reached);
  return *reached >= upto;
}

DeletionTargetsStats DeletionTargets::stats() const {
  DeletionTargetsStats s;
  s.ready = covered() >= 0;
  const Snapshot now = snapshot();
  s.keys = now.base->size() + now.delta->size();
  s.deletions = deletions_.load(std::memory_order_relaxed);
  s.cleared = cleared_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace pb::serve
