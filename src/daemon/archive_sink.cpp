#include "daemon/archive_sink.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "archive/compact.hpp"
#include "base/thread_name.hpp"

namespace pb::daemon {
namespace {

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

ArchiveSink::ArchiveSink(std::unique_ptr<ArchiveWriter> writer, std::size_t batch_size, std::chrono::milliseconds interval,
                         WorkQueue<CheckedEvent>& in, SeenIds& seen, DaemonLog& log, SinkStatus& status,
                         std::function<void()> on_failure, std::chrono::milliseconds min_commit_gap)
    : writer_(std::move(writer)), batch_size_(batch_size), interval_(interval), in_(in), seen_(seen), log_(log),
      status_(status), on_failure_(std::move(on_failure)), min_commit_gap_(min_commit_gap) {
  status_.last_tick_steady_ms = steady_ms();
  thread_ = std::thread([this] { run(); });
}

ArchiveSink::~ArchiveSink() { join(); }

void ArchiveSink::join() {
  if (thread_.joinable()) thread_.join();
}

void ArchiveSink::run() {
  name_this_thread("pb-writer");
  try {
    auto deadline = std::chrono::steady_clock::now() + interval_;
    for (;;) {
      // A due commit deferred by the gap rule must not wait for the next event or the interval.
      const auto wake = pending_ >= batch_size_ ? std::min(deadline, last_commit_ + min_commit_gap_) : deadline;
      auto item = in_.pop_until(wake);
      if (item) apply(*item);
      if (commit_due() || writer_->should_commit()) commit();
      if (std::chrono::steady_clock::now() >= deadline) {
        if (pending_ > 0 || cursor_ready()) commit();
        maybe_compact();
        deadline = std::chrono::steady_clock::now() + interval_;
        status_.last_tick_steady_ms = steady_ms();
      }
      if (!item && in_.drained()) break;
    }
    commit();
    writer_.reset();  // closes the archive (and its lock) before the process reports it stopped
  } catch (const std::exception& e) {
    status_.failed = true;
    log_.error(fmt::format("writer: {} (uncommitted events are refetched after a restart)", e.what()));
    // Keep draining so the producers never block forever; nothing more is stored.
    while (in_.pop()) {
    }
    if (on_failure_) on_failure_();
  }
}

void ArchiveSink::apply(CheckedEvent& ev) {
  RelayCounters& rc = *ev.relay;
  CursorHold& cursor = cursors_[ev.relay];
  if (ev.outcome == CheckedEvent::Outcome::history_end) return cursor.end(ev.history.run, ev.history.events);
  if (ev.outcome == CheckedEvent::Outcome::dropped) return cursor.event(ev.history.run, std::nullopt);
  if (ev.outcome == CheckedEvent::Outcome::known) {
    rc.bump(&Counters::duplicates);
  } else {
    StagedEvent staged{ev.id, ev.pubkey, ev.created_at, ev.kind, ev.record, ev.tags};
    if (writer_->add(staged)) {
      rc.bump(&Counters::stored);
      ++pending_;
      // Only events actually stored (verified, new) name candidates: a relay cannot inflate mentions by
      // resending, and forged events never count.
      if (auto* feed = discovery_.load(std::memory_order_relaxed); feed && !ev.hints.empty()) feed->add(ev.hints);
    } else {
      rc.bump(&Counters::duplicates);
    }
  }
  // A relay's cursor never runs ahead of the clock (a relay serving far-future events must not make us
  // skip the present on the next REQ).
  cursor.event(ev.history.run, std::min(ev.created_at, unix_now()));
}

// Group commit (docs/daemon.md, "Commits"): --batch-size events make a commit due, but the sink keeps adding
// events to the same transaction while more are waiting, and, when it catches up, until a second has
// passed since the previous commit; at most kGroupFactor batches. A commit's cost is mostly the index pages
// it dirties (each event's tag and id entries land on random pages), so a backfill's commits carry more
// events each; a live trickle (under --batch-size events a second) still commits every --batch-size events.
bool ArchiveSink::commit_due() {
  if (pending_ < batch_size_) return false;
  if (pending_ >= kGroupFactor * batch_size_) return true;
  return in_.size() == 0 && std::chrono::steady_clock::now() - last_commit_ >= min_commit_gap_;
}

bool ArchiveSink::cursor_ready() const {
  return std::any_of(cursors_.begin(), cursors_.end(), [](const auto& c) { return c.second.ready(); });
}

void ArchiveSink::enable_compaction(std::int64_t grace_seconds, std::mutex* gate, bool sort_by_time) {
  compact_gate_ = gate;
  compact_sort_ = sort_by_time;
  compact_grace_ = std::max<std::int64_t>(0, grace_seconds);
}

// At most one file is compacted per batch interval, and a file's rows are read only when its committed
// length changed since it was last judged: a long history costs one files-table read per tick.
void ArchiveSink::maybe_compact() {
  const std::int64_t grace = compact_grace_;
  if (grace < 0 || !writer_->idle()) return;
  std::unique_lock<std::mutex> gate;
  if (compact_gate_) {
    gate = std::unique_lock(*compact_gate_, std::try_to_lock);
    if (!gate.owns_lock()) return;  // an S3 push is reading committed bytes: next tick
  }
  CompactOptions o;
  o.policy.grace_seconds = grace;
  o.force = true;  // the policy is checked here
  o.sort_by_time = compact_sort_;  // then every finished day is read once, and rewritten unless in order
  for (const FileRow& f : finished_day_files(writer_->index(), grace, unix_now())) {
    auto [it, inserted] = compact_checked_.try_emplace(f.file_name, f.committed_bytes);
    if (!inserted && it->second == f.committed_bytes) continue;
    it->second = f.committed_bytes;
    if (!o.sort_by_time &&
        !needs_compaction(day_file_layout(writer_->index(), f.file_name), o.policy, writer_->options().member_bytes))
      continue;
    CompactResult r;
    try {
      r = compact_day_file(*writer_, f.file_name, o);
    } catch (...) {
      // Past its point of no return (index and file out of step until the next open completes the swap):
      // marked while the gate is still held, so no S3 push starts on that state.
      status_.failed = true;
      throw;
    }
    if (r.compacted) {
      it->second = r.bytes_after;
      ++status_.compactions;
      log_.info(fmt::format("compacted {}{}: {} events, {} members ({} bytes) -> {} members ({} bytes) in {:.2f} s",
                            r.file, r.sorted ? " (sorted by time)" : "", r.events, r.members_before, r.bytes_before,
                            r.members_after, r.bytes_after, r.elapsed_s));
    } else if (!o.sort_by_time || r.skipped != kAlreadyInTimeOrder) {
      log_.warn(fmt::format("compaction of {} skipped: {}", r.file, r.skipped));
    }
    return;
  }
}

void ArchiveSink::commit() {
  std::vector<std::pair<std::shared_ptr<RelayCounters>, std::int64_t>> moved;
  for (auto it = cursors_.begin(); it != cursors_.end();) {
    const auto& relay = it->first;
    if (const auto at = it->second.take(); at && *at > relay->cursor.load()) {
      writer_->stage_relay_cursor(relay->url, *at);
      moved.emplace_back(relay, *at);
    }
    it = it->second.idle() ? cursors_.erase(it) : std::next(it);
  }
  const auto ids = writer_->commit();
  for (const auto& id : ids) seen_.erase(id);
  for (const auto& [relay, at] : moved) relay->cursor = at;
  pending_ = 0;
  last_commit_ = std::chrono::steady_clock::now();
  status_.last_commit_unix = unix_now();
  status_.last_tick_steady_ms = steady_ms();
  ++status_.commits;
}

}  // namespace pb::daemon
