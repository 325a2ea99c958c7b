// --s3-output: a thread of its own that pushes what the archive has committed (s3/committed_push.hpp:
// the day files up to their committed lengths, an index.db snapshot, the log) at start, every
// --s3-interval seconds and once more at shutdown, after the writer's last commit. Ingest never waits for S3: the
// writer and io threads are not involved. While a push runs it holds the compaction gate, and the writer
// skips compaction (the one rewrite of committed bytes) until it is free, so nothing a push reads can be
// replaced under it. Failures are logged, counted and retried at the next interval.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include "daemon/config.hpp"
#include "daemon/daemon_log.hpp"
#include "s3/archive_sync.hpp"
#include "s3/aws_config.hpp"
#include "s3/s3_location.hpp"

namespace pb::daemon {

// For /metrics.
struct S3PushStatus {
  std::atomic<std::uint64_t> pushes{0};           // pushes finished, successful or not
  std::atomic<std::uint64_t> failures{0};         // pushes in which a file, or the whole push, failed
  std::atomic<std::int64_t> last_success_unix{0};  // wall clock when the last successful push ended (0: none)
  std::atomic<std::uint64_t> last_events{0};      // events in the index snapshot of the last successful push
};

struct S3PushSetup {
  std::filesystem::path dir;
  s3::S3Location location;
  std::string endpoint;  // --s3-endpoint (credentials and endpoint are resolved again before each push)
  s3::SyncOptions sync;
  std::chrono::milliseconds interval{3'600'000};
};

// The push settings of `cfg`, credentials resolved once to catch a mistake at start (the daemon then
// exits 2). Throws std::runtime_error with a message that names no secret.
S3PushSetup s3_push_setup(const DaemonConfig& cfg, const s3::EnvLookup& env);

class S3Pusher {
 public:
  // `writer_failed`: the writer thread failed; no push starts after that (a failure in compaction's
  // final step leaves the index and a day file out of step until the next start completes the swap).
  S3Pusher(S3PushSetup setup, s3::EnvLookup env, std::mutex& compaction_gate, const std::atomic<bool>& writer_failed,
           DaemonLog& log, S3PushStatus& status);
  ~S3Pusher();  // cancels a push in flight and joins the thread
  S3Pusher(const S3Pusher&) = delete;
  S3Pusher& operator=(const S3Pusher&) = delete;

  // Shutdown has begun: no periodic push starts any more (one running goes on), so the next push is the
  // final one, which sees the writer's last commit.
  void stop_periodic();
  // Call once the writer has closed the archive: one last push, under a shared archive lock. Waits at
  // most `budget` for it (and for a push already running); past it the upload in flight is cancelled
  // (what was uploaded stays, and an interrupted multipart upload is resumed by the next push). Returns
  // true when the final push completed without a failure.
  bool final_push(std::chrono::milliseconds budget);

 private:
  enum class Kind { start, periodic, final };
  void run(std::stop_token stop);
  bool push(const std::stop_token& stop, Kind kind);  // one push, logged and counted; true when clean

  S3PushSetup setup_;
  s3::EnvLookup env_;
  std::mutex& gate_;
  const std::atomic<bool>& writer_failed_;
  DaemonLog& log_;
  S3PushStatus& status_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool periodic_stopped_ = false;
  bool final_requested_ = false;
  std::optional<bool> final_result_;
  std::jthread thread_;  // last: started once everything above exists, stopped and joined first
};

}  // namespace pb::daemon
