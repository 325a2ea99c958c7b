#include "daemon/s3_pusher.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "archive/lock.hpp"
#include "s3/committed_push.hpp"
#include "s3/part_size.hpp"

namespace pb::daemon {
namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Retries and tolerated failures as warnings, failed files as errors, in proton-beam.log.
class LogObserver final : public s3::SyncObserver {
 public:
  explicit LogObserver(DaemonLog& log) : log_(log) {}
  void on_plan(std::size_t) override {}
  void on_file(const s3::FileResult& r) override {
    if (r.action == s3::FileAction::failed) log_.error(fmt::format("s3 push: {} failed: {}", r.name, r.error));
  }
  void on_note(const std::string& m) override { log_.warn("s3 push: " + m); }

 private:
  DaemonLog& log_;
};

}  // namespace

S3PushSetup s3_push_setup(const DaemonConfig& cfg, const s3::EnvLookup& env) {
  S3PushSetup s;
  s.dir = cfg.output_dir;
  s.location = s3::parse_s3_url(cfg.s3_output);  // checked when the configuration was read
  s.endpoint = cfg.s3_endpoint;
  s3::load_aws_config(env, s.endpoint);  // throws when no credentials are found or the endpoint is bad
  s.sync.part_size = s3::parse_part_size(cfg.s3_part_size);
  s.sync.parallel = cfg.s3_jobs;
  s.sync.client.retry.max_attempts = cfg.s3_max_attempts;
  s.interval = std::chrono::milliseconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(cfg.s3_interval * 1000)));
  return s;
}

S3Pusher::S3Pusher(S3PushSetup setup, s3::EnvLookup env, std::mutex& compaction_gate, const std::atomic<bool>& writer_failed,
                   DaemonLog& log, S3PushStatus& status)
    : setup_(std::move(setup)), env_(std::move(env)), gate_(compaction_gate), writer_failed_(writer_failed), log_(log),
      status_(status), thread_([this](std::stop_token stop) { run(stop); }) {}

S3Pusher::~S3Pusher() = default;  // std::jthread: request_stop() (cancels the push in flight), join()

// The first push starts at once: what the previous run committed reaches the bucket now, not an interval
// later (that run may have ended without its final push: killed, out of memory, power loss; a daemon
// restarted more often than --s3-interval would otherwise never push). An unchanged archive costs little
// (the sha256 cache: no day file is read again).
void S3Pusher::run(std::stop_token stop) {
  for (bool start = true;; start = false) {
    std::unique_lock lock(mu_);
    if (!start) cv_.wait_for(lock, stop, setup_.interval, [this] { return periodic_stopped_ || final_requested_; });
    if (periodic_stopped_ || final_requested_) break;
    if (stop.stop_requested()) return;
    lock.unlock();
    push(stop, start ? Kind::start : Kind::periodic);
  }
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, stop, [this] { return final_requested_; });
    if (stop.stop_requested()) return;
  }
  const bool ok = push(stop, Kind::final);
  const std::lock_guard lock(mu_);
  final_result_ = ok;
  cv_.notify_all();
}

bool S3Pusher::push(const std::stop_token& stop, Kind kind) {
  const bool final = kind == Kind::final;
  const std::lock_guard gate(gate_);  // no compaction until this push is done
  const char* when = final ? " (final)" : kind == Kind::start ? " (start)" : "";
  if (writer_failed_) {
    log_.warn(fmt::format("s3 push{} skipped: the writer failed (the next start completes the archive)", when));
    return false;
  }
  const std::string url = setup_.location.url();
  s3::CommittedPush r;
  std::string fatal;
  try {
    // After the writer closed the archive: keep another writer out until the push is done.
    const ArchiveLock lock = final ? ArchiveLock::acquire(setup_.dir, ArchiveLock::Kind::shared) : ArchiveLock();
    s3::SyncOptions opt = setup_.sync;
    opt.client.stop = stop;
    LogObserver obs(log_);
    r = s3::push_committed(setup_.dir, setup_.location, s3::load_aws_config(env_, setup_.endpoint), opt, obs);
  } catch (const std::exception& e) {
    fatal = e.what();
  }
  ++status_.pushes;
  const char* next = final ? "the local archive is complete; the next push uploads the rest" : "retried at the next interval";
  if (!fatal.empty()) {
    ++status_.failures;
    log_.error(fmt::format("s3 push{} to {} stopped: {}; {}", when, url, fatal, next));
    return false;
  }
  using s3::FileAction;
  const std::size_t failed = r.sync.count(FileAction::failed);
  const std::string line = fmt::format(
      "s3 push{} to {}: {} transferred ({} bytes), {} unchanged, {} failed in {:.1f} s; index snapshot of {} events in {} "
      "day files; {} files not re-read (sha256 cache)",
      when, url, r.sync.count(FileAction::transferred), r.sync.bytes(FileAction::transferred),
      r.sync.count(FileAction::skipped), failed, r.sync.elapsed_s, r.events, r.day_files, r.sync.digests_cached);
  if (failed > 0) {
    ++status_.failures;
    log_.error(fmt::format("{}; {}", line, next));
    return false;
  }
  status_.last_events = r.events;
  status_.last_success_unix = unix_now();
  log_.info(line);
  return true;
}

void S3Pusher::stop_periodic() {
  const std::lock_guard lock(mu_);
  periodic_stopped_ = true;
  cv_.notify_all();
}

bool S3Pusher::final_push(std::chrono::milliseconds budget) {
  std::unique_lock lock(mu_);
  final_requested_ = true;
  cv_.notify_all();
  if (!cv_.wait_for(lock, budget, [this] { return final_result_.has_value(); })) {
    log_.warn(fmt::format("s3 push (final): not done after {:.1f} s (--s3-shutdown-timeout): cancelling it",
                          std::chrono::duration<double>(budget).count()));
    thread_.request_stop();
    lock.unlock();
    thread_.join();
    lock.lock();
  }
  return final_result_.value_or(false);
}

}  // namespace pb::daemon
