// The single writer thread: adds checked events to the ArchiveWriter and commits every batch_size stored
// events or batch_interval seconds, staging each relay's newest created_at in the same transaction.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <thread>

#include "archive/writer.hpp"
#include "daemon/daemon_log.hpp"
#include "daemon/pipeline_types.hpp"
#include "daemon/work_queue.hpp"
#include "ingest/seen_ids.hpp"

namespace pb::daemon {

struct SinkStatus {
  std::atomic<std::int64_t> last_commit_unix{0};   // wall clock of the last commit (0: none yet)
  std::atomic<std::int64_t> last_tick_steady_ms{0};  // the writer loop's heartbeat (steady clock)
  std::atomic<std::uint64_t> commits{0};
  std::atomic<bool> failed{false};
};

class ArchiveSink {
 public:
  ArchiveSink(std::unique_ptr<ArchiveWriter> writer, std::size_t batch_size, std::chrono::milliseconds interval,
              WorkQueue<CheckedEvent>& in, SeenIds& seen, DaemonLog& log, SinkStatus& status,
              std::function<void()> on_failure);
  ~ArchiveSink();  // join()
  // Returns once `in` is closed and drained and the last commit is done.
  void join();

 private:
  void run();
  void apply(CheckedEvent& ev);
  void commit();
  std::unique_ptr<ArchiveWriter> writer_;
  std::size_t batch_size_;
  std::chrono::milliseconds interval_;
  WorkQueue<CheckedEvent>& in_;
  SeenIds& seen_;
  DaemonLog& log_;
  SinkStatus& status_;
  std::function<void()> on_failure_;
  std::size_t pending_ = 0;
  std::map<std::shared_ptr<RelayCounters>, std::int64_t> cursors_;  // staged for the next commit
  std::thread thread_;
};

}  // namespace pb::daemon
