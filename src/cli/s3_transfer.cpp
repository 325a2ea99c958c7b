#include "cli/s3_transfer.hpp"

#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "cli/exit_codes.hpp"
#include "cli/progress.hpp"
#include "nostr/canonical.hpp"
#include "s3/part_size.hpp"

namespace pb::cli {
namespace {

// Terminal progress and notes, shared by the transfer threads.
class CliSyncObserver final : public s3::SyncObserver {
 public:
  CliSyncObserver(ProgressLine& progress, spdlog::logger* log, std::atomic<std::uint64_t>& moved)
      : progress_(progress), log_(log), moved_(moved) {}

  void on_plan(std::size_t files) override { total_ = files; }
  void on_file(const s3::FileResult& r) override {
    const std::lock_guard lock(mu_);
    ++done_;
    if (r.action == s3::FileAction::failed) {
      progress_.finish();
      fmt::print(stderr, "s3: {} failed: {}\n", r.name, r.error);
      if (log_) log_->error("s3 {} failed: {}", r.name, r.error);
    }
  }
  void on_note(const std::string& m) override {
    const std::lock_guard lock(mu_);
    progress_.finish();
    fmt::print(stderr, "s3: {}\n", m);
    if (log_) log_->warn("s3 {}", m);
  }
  void tick(double secs) {
    const std::lock_guard lock(mu_);
    const auto b = static_cast<double>(moved_.load());
    progress_.show(fmt::format("s3: {}/{} files | {} | {}/s", done_, total_, human_bytes(b), human_bytes(secs > 0 ? b / secs : 0)));
  }

 private:
  std::mutex mu_;
  ProgressLine& progress_;
  spdlog::logger* log_;
  std::atomic<std::uint64_t>& moved_;
  std::size_t total_ = 0, done_ = 0;
};

std::string json_summary(SyncDirection dir, const S3Plan& plan, const s3::SyncSummary& s, const std::string& fatal) {
  using s3::FileAction;
  std::string url, errors;
  append_json_string(url, plan.location.url());
  for (const auto& f : s.files) {
    if (f.action != FileAction::failed) continue;
    if (!errors.empty()) errors += ',';
    append_json_string(errors, f.name + ": " + f.error);
  }
  if (!fatal.empty()) {
    if (!errors.empty()) errors += ',';
    append_json_string(errors, fatal);
  }
  const std::uint64_t moved = s.bytes(FileAction::transferred);
  return fmt::format("{{\"command\":\"{}\",\"url\":{},\"transferred\":{},\"skipped\":{},\"failed\":{},"
                     "\"bytes_transferred\":{},\"bytes_skipped\":{},\"digests_cached\":{},\"elapsed_s\":{:.3f},"
                     "\"bytes_per_s\":{:.0f},\"ok\":{},\"errors\":[{}]}}\n",
                     dir == SyncDirection::push ? "push" : "pull", url, s.count(FileAction::transferred),
                     s.count(FileAction::skipped), s.count(FileAction::failed) + (fatal.empty() ? 0 : 1), moved,
                     s.bytes(FileAction::skipped), s.digests_cached, s.elapsed_s, s.elapsed_s > 0 ? static_cast<double>(moved) / s.elapsed_s : 0.0,
                     fatal.empty() && s.count(FileAction::failed) == 0, errors);
}

}  // namespace

CLI::Validator s3_url_check() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        try {
          s3::parse_s3_url(v);
          return {};
        } catch (const std::invalid_argument& e) {
          return e.what();
        }
      },
      "s3://BUCKET[/PREFIX]");
}

void add_s3_options(CLI::App* cmd, S3Args& a, bool output_flag) {
  const char* group = "S3";
  if (output_flag)
    cmd->add_option("--s3-output", a.url,
                    "After the run, upload the changed day files, an index.db snapshot and the log to s3://BUCKET[/PREFIX]")
        ->check(s3_url_check())->group(group);
  cmd->add_option("--s3-endpoint", a.endpoint,
                  "S3-compatible endpoint (http[s]://host[:port]; path-style addressing); default AWS_ENDPOINT_URL or AWS")
      ->group(group);
  cmd->add_option("--s3-part-size", a.part_size, "Multipart part size (K/M/G suffix; 5M to 5G; files above it go multipart)")
      ->capture_default_str()->group(group);
  cmd->add_option("--s3-jobs", a.jobs, "Parts in flight for a multipart upload")->capture_default_str()
      ->check(CLI::Range(1, 64))->group(group);
  cmd->add_option("--s3-max-attempts", a.max_attempts, "Attempts per request before giving up")
      ->check(CLI::Range(1, 100))->group("");
  cmd->add_option("--s3-list-page-size", a.list_page_size, "ListObjectsV2 page size (testing)")
      ->check(CLI::Range(1, 1000))->group("");
}

S3Plan resolve_s3(const S3Args& a) {
  S3Plan p;
  try {
    p.location = s3::parse_s3_url(a.url);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
  p.config = s3::load_aws_config(s3::process_env, a.endpoint);
  try {
    p.sync.part_size = s3::parse_part_size(a.part_size);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("--s3-part-size: {}", e.what()));
  }
  p.sync.parallel = a.jobs;
  p.sync.client.retry.max_attempts = a.max_attempts;
  p.sync.client.list_page_size = a.list_page_size;
  return p;
}

int run_sync(SyncDirection dir, const std::filesystem::path& archive, const S3Plan& plan, bool progress_on, bool json,
             std::FILE* out, spdlog::logger* log) {
  std::atomic<std::uint64_t> moved{0};
  S3Plan p = plan;
  p.sync.client.progress = &moved;
  ProgressLine progress(progress_on);
  CliSyncObserver obs(progress, log, moved);
  const char* verb = dir == SyncDirection::push ? "push" : "pull";
  if (log) {
    log->info("s3 {} {} {} start", verb, archive.string(), plan.location.url());
    log->flush();
  }

  const auto t0 = std::chrono::steady_clock::now();
  std::jthread ticker;
  if (progress_on)
    ticker = std::jthread([&](std::stop_token st) {
      while (!st.stop_requested()) {
        obs.tick(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
      }
    });
  s3::SyncSummary s;
  std::string fatal;
  try {
    s = dir == SyncDirection::push ? s3::push_archive(archive, p.location, p.config, p.sync, obs)
                                   : s3::pull_archive(p.location, archive, p.config, p.sync, obs);
  } catch (const std::exception& e) {
    fatal = e.what();
    s.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  if (ticker.joinable()) {
    ticker.request_stop();
    ticker.join();
  }
  progress.finish();

  using s3::FileAction;
  const std::size_t failed = s.count(FileAction::failed);
  const std::uint64_t bytes = s.bytes(FileAction::transferred);
  const std::string line = fmt::format(
      "S3 {} {} {}: {} transferred ({}), {} unchanged, {} failed in {}, {}/s{}", verb,
      dir == SyncDirection::push ? "to" : "from", plan.location.url(), s.count(FileAction::transferred),
      human_bytes(static_cast<double>(bytes)), s.count(FileAction::skipped), failed, human_duration(s.elapsed_s),
      human_bytes(s.elapsed_s > 0 ? static_cast<double>(bytes) / s.elapsed_s : 0.0),
      s.digests_cached ? fmt::format(" ({} files not re-read: sha256 cache)", s.digests_cached) : std::string());
  if (json) {
    std::fputs(json_summary(dir, plan, s, fatal).c_str(), stdout);
  } else {
    fmt::print(out, "{}\n", line);
  }
  // Only a failure is logged afterwards: a successful upload leaves the log exactly as uploaded, so
  // the next push finds it unchanged.
  if (log && (!fatal.empty() || failed > 0)) log->error("{}{}", line, fatal.empty() ? "" : " (stopped: " + fatal + ")");
  if (!fatal.empty()) {
    fmt::print(stderr, "error: S3 {} stopped: {}\n", verb, fatal);
  } else if (failed > 0) {
    fmt::print(stderr, "error: S3 {}: {} file(s) failed; run it again to transfer what is missing\n", verb, failed);
  }
  if (!fatal.empty() || failed > 0) {
    if (dir == SyncDirection::push)
      fmt::print(stderr, "The local archive {} is complete and unchanged; only the upload is incomplete.\n", archive.string());
    return kExitUploadFailed;
  }
  return kExitOk;
}

}  // namespace pb::cli
