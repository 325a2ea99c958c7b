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

bool DeletionTargets::collect(ArchiveIndex& index, std::int64_t from, std::int64_t upto, const Loader& load,
                              std::unordered_set<std::int64_t>& keys, std::uint64_t& deletions,
                              const std::stop_token& stop) {
  Sha256Hasher hasher;
  for (std::int64_t at = from; at < upto && !stop.stop_requested();) {
    const auto rows = index.rows_after(at, kRowsPerRead);
    if (rows.empty()) return true;
    for (const IndexRow& row : rows) {
      if (row.seq > upto) return true;
      at = row.seq;
      if (row.kind != kKindDeletion) continue;
      const auto ev = load(row);
      if (!ev) {
        spdlog::warn("serve: deletion {} (seq {}) could not be read: deletions are checked in the index only",
                     to_hex(row.id), row.seq);
        return false;
      }
      ++deletions;
      for (const IndexTag t : index_tags(*ev, hasher))
        if (names_an_event(t)) keys.insert(t.key);
    }
  }
  return !stop.stop_requested();
}

void DeletionTargets::publish(std::unordered_set<std::int64_t>& keys, std::uint64_t deletions, std::int64_t covered) {
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
  std::unordered_set<std::int64_t> keys;
  std::uint64_t deletions = 0;
  if (!collect(index, 0, upto, load, keys, deletions, stop)) {
    broken_ = !stop.stop_requested();
    return;
  }
  const std::size_t named = keys.size();
  publish(keys, deletions, upto);
  spdlog::info("serve: {} deletions name {} events or addresses (up to seq {})", deletions, named, upto);
}

void DeletionTargets::catch_up(ArchiveIndex& index, std::int64_t upto, const Loader& load) {
  if (const auto c = covered(); c < 0 || c >= upto) return;
  std::lock_guard lock(catch_up_mu_);
  const std::int64_t from = covered();
  if (from < 0 || from >= upto || broken_) return;
  std::unordered_set<std::int64_t> keys;
  std::uint64_t deletions = 0;
  if (!collect(index, from, upto, load, keys, deletions, {})) {
    broken_ = true;
    covered_.store(-1, std::memory_order_release);
    return;
  }
  publish(keys, deletions, upto);
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
