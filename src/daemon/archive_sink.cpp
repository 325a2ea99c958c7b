#include "daemon/archive_sink.hpp"

#include <fmt/format.h>

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
                         std::function<void()> on_failure)
    : writer_(std::move(writer)), batch_size_(batch_size), interval_(interval), in_(in), seen_(seen), log_(log),
      status_(status), on_failure_(std::move(on_failure)) {
  status_.last_tick_steady_ms = steady_ms();
  thread_ = std::thread([this] { run(); });
}

ArchiveSink::~ArchiveSink() { join(); }

void ArchiveSink::join() {
  if (thread_.joinable()) thread_.join();
}

void ArchiveSink::run() {
  try {
    auto deadline = std::chrono::steady_clock::now() + interval_;
    for (;;) {
      auto item = in_.pop_until(deadline);
      if (item) apply(*item);
      if (pending_ >= batch_size_ || writer_->should_commit()) commit();
      if (std::chrono::steady_clock::now() >= deadline) {
        if (pending_ > 0 || !cursors_.empty()) commit();
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
  if (ev.known) {
    rc.bump(&Counters::duplicates);
  } else {
    StagedEvent staged{ev.id, ev.pubkey, ev.created_at, ev.kind, ev.record, ev.tags};
    if (writer_->add(staged)) {
      rc.bump(&Counters::stored);
      ++pending_;
    } else {
      rc.bump(&Counters::duplicates);
    }
  }
  // A relay's cursor never runs ahead of the clock (a relay serving far-future events must not make us
  // skip the present on the next REQ).
  const std::int64_t at = std::min(ev.created_at, unix_now());
  auto [it, inserted] = cursors_.try_emplace(ev.relay, at);
  if (!inserted) it->second = std::max(it->second, at);
}

void ArchiveSink::commit() {
  for (const auto& [relay, at] : cursors_)
    if (at > relay->cursor.load()) writer_->stage_relay_cursor(relay->url, at);
  const auto ids = writer_->commit();
  for (const auto& id : ids) seen_.erase(id);
  for (const auto& [relay, at] : cursors_)
    if (at > relay->cursor.load()) relay->cursor = at;
  cursors_.clear();
  pending_ = 0;
  status_.last_commit_unix = unix_now();
  status_.last_tick_steady_ms = steady_ms();
  ++status_.commits;
}

}  // namespace pb::daemon
