// The single writer thread: adds checked events to the ArchiveWriter and commits every batch_size stored
// events or batch_interval seconds, staging each relay's newest created_at in the same transaction (held
// back while the relay's history is being paged: cursor_hold.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "archive/writer.hpp"
#include "daemon/cursor_hold.hpp"
#include "daemon/daemon_log.hpp"
#include "daemon/discovery_feed.hpp"
#include "daemon/pipeline_types.hpp"
#include "daemon/work_queue.hpp"
#include "ingest/seen_ids.hpp"

namespace pb::daemon {

struct SinkStatus {
  std::atomic<std::int64_t> last_commit_unix{0};   // wall clock of the last commit (0: none yet)
  std::atomic<std::int64_t> last_tick_steady_ms{0};  // the writer loop's heartbeat (steady clock)
  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> compactions{0};
  std::atomic<bool> failed{false};
};

class ArchiveSink {
 public:
  static constexpr std::size_t kGroupFactor = 64;  // a commit carries at most this many --batch-size batches
  // A due commit waits until this long after the previous one while it can take more events (a flood
  // commits about once a second; a trickle slower than --batch-size events a second is not delayed).
  static constexpr std::chrono::milliseconds kMinCommitGap{1000};

  ArchiveSink(std::unique_ptr<ArchiveWriter> writer, std::size_t batch_size, std::chrono::milliseconds interval,
              WorkQueue<CheckedEvent>& in, SeenIds& seen, DaemonLog& log, SinkStatus& status,
              std::function<void()> on_failure, std::chrono::milliseconds min_commit_gap = kMinCommitGap);
  ~ArchiveSink();  // join()
  // Discovery is on: hand the relay hints of each stored event to `feed`. Call before events flow.
  void feed_discovery(DiscoveryFeed* feed) { discovery_ = feed; }
  // Returns once `in` is closed and drained and the last commit is done.
  void join();
  // From now on, between commits, compact day files whose UTC day ended `grace_seconds` ago and that hold
  // many small members (archive/compact.hpp), one file per batch interval. While someone else holds
  // `gate` (the S3 push reading committed bytes), compaction waits for a later tick. With `sort_by_time`,
  // every finished day not yet in time order is rewritten so (once per change of its size). Call at
  // most once, before events flow.
  void enable_compaction(std::int64_t grace_seconds, std::mutex* gate = nullptr, bool sort_by_time = false);

 private:
  void run();
  void apply(CheckedEvent& ev);
  void commit();
  bool commit_due();
  void maybe_compact();
  std::unique_ptr<ArchiveWriter> writer_;
  std::size_t batch_size_;
  std::chrono::milliseconds interval_;
  WorkQueue<CheckedEvent>& in_;
  SeenIds& seen_;
  DaemonLog& log_;
  SinkStatus& status_;
  std::function<void()> on_failure_;
  std::chrono::milliseconds min_commit_gap_;
  std::chrono::steady_clock::time_point last_commit_ = std::chrono::steady_clock::now();
  std::atomic<DiscoveryFeed*> discovery_{nullptr};  // gets the relay hints of each event stored (null: discovery off)
  std::size_t pending_ = 0;
  bool cursor_ready() const;
  std::map<std::shared_ptr<RelayCounters>, CursorHold> cursors_;  // what each relay's cursor may move to
  std::atomic<std::int64_t> compact_grace_{-1};            // -1: compaction off (set from another thread)
  std::mutex* compact_gate_ = nullptr;                      // published by the store to compact_grace_
  bool compact_sort_ = false;                               // likewise
  std::map<std::string, std::uint64_t> compact_checked_;  // day file -> committed length last judged
  std::thread thread_;
};

}  // namespace pb::daemon
