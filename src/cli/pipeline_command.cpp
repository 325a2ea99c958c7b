#include "cli/pipeline_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/logger.h>

#include "cli/convert_summary.hpp"
#include "cli/exit_codes.hpp"
#include "cli/progress.hpp"
#include "archive/run_log.hpp"

namespace pb::cli {
namespace {

// Routes pipeline events to the log, the terminal and the progress line.
class CliObserver final : public ConvertObserver {
 public:
  CliObserver(spdlog::logger& log, ProgressLine& progress, bool verbose)
      : log_(log), progress_(progress), verbose_(verbose) {}

  void on_recovery(const std::string& action) override {
    log_.warn("recovery {}", action);
    progress_.finish();
    fmt::print(stderr, "recovery: {}\n", action);
  }
  void on_reject(const RejectedLine& r) override {
    const std::string line = fmt::format("reject input={} line={} category={} id={} {}", r.input, r.line,
                                         category_name(r.category), r.id_prefix.empty() ? "-" : r.id_prefix, r.message);
    log_.warn("{}", line);
    if (verbose_) {
      progress_.finish();
      fmt::print(stderr, "{}\n", line);
    }
  }
  void on_input_error(const std::string& message) override {
    log_.error("input damaged: {}", message);
    progress_.finish();
    fmt::print(stderr, "warning: input damaged: {} (lines before the damage were processed)\n", message);
  }
  void on_progress(const ProgressSnapshot& p) override {
    if (!progress_.enabled()) return;
    const double secs = std::chrono::duration<double>(p.elapsed).count();
    const auto& s = p.stats;
    std::string text = fmt::format("{} lines, {} stored, {} dup, {} invalid | {:.0f} ev/s | {}", s.total_lines, s.valid,
                                   s.duplicates, s.invalid, secs > 0 ? static_cast<double>(s.total_lines) / secs : 0.0,
                                   human_bytes(static_cast<double>(s.raw_input_bytes)));
    if (p.raw_bytes_total > 0 && s.raw_input_bytes > 0) {
      const double frac = std::min(1.0, static_cast<double>(s.raw_input_bytes) / static_cast<double>(p.raw_bytes_total));
      text += fmt::format(" / {} ({:.1f}%)", human_bytes(static_cast<double>(p.raw_bytes_total)), 100 * frac);
      if (frac > 0.001) text += fmt::format(" ETA {}", human_duration(secs / frac - secs));
    }
    progress_.show(text);
  }

 private:
  spdlog::logger& log_;
  ProgressLine& progress_;
  bool verbose_;
};

}  // namespace

void add_pipeline_options(CLI::App* cmd, PipelineArgs& a) {
  cmd->add_option("-j,--parallel", a.opt.threads, "Worker threads (default: number of CPUs)")->check(CLI::Range(1, 1024));
  cmd->add_option("--compression-level", a.compression_level, "gzip level of new day-file members (0-9)")
      ->capture_default_str()->check(CLI::Range(0, 9));
  cmd->add_flag("--no-progress", a.no_progress, "Never show the progress line");
  cmd->add_flag("--progress", a.force_progress, "Show the progress line even when stderr is not a terminal");
  cmd->add_flag("-v,--verbose", a.verbose, "Also print every rejected item on stderr");
  cmd->add_option("--summary-json", a.summary_json, "Write the machine-readable summary to FILE ('-' for stdout)");
  cmd->add_option("--commit-mb", a.commit_mb,
                  "Advanced: commit the index after this many MiB of new records (smaller = less redone after a crash)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--member-kib", a.member_kib,
                  "Advanced: records per gzip member of new day files, in KiB (smaller: faster random reads, e.g. serve)")
      ->capture_default_str()->check(CLI::Range(16, 16384));
  cmd->add_option("--index-cache-mib", a.index_cache_mib,
                  "Advanced: SQLite page cache of the index writer, in MiB (each worker's lookups get 1/8 of it); "
                  "the main memory knob (docs/index.md)")
      ->capture_default_str()->check(CLI::Range(4, 1 << 20));
  cmd->add_option("--pending-mib", a.pending_mib,
                  "Advanced: records held for unfinished members across all open days, in MiB; past it the "
                  "largest are sealed early (less memory when the input spans many days; docs/index.md)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_flag("--no-fsync", a.no_fsync,
                "Advanced: skip fdatasync before commits (still safe against kills, not against power loss)");
  add_s3_options(cmd, a.s3, true);
}

PipelineResult run_pipeline(PipelineArgs& a, const std::string& command) {
  a.opt.writer.compression_level = a.compression_level;
  a.opt.writer.commit_bytes = a.commit_mb << 20;
  a.opt.writer.member_bytes = a.member_kib << 10;
  a.opt.writer.index_cache_kib = a.index_cache_mib << 10;
  a.opt.writer.max_pending_bytes = a.pending_mib << 20;
  a.opt.writer.fsync = !a.no_fsync;
  if (a.opt.threads == 0) a.opt.threads = std::max(1u, std::thread::hardware_concurrency());
  // Resolved first: a bad URL or missing credentials should stop the run before it converts anything.
  std::optional<S3Plan> s3_plan;
  if (!a.s3.url.empty()) s3_plan = resolve_s3(a.s3);

  std::error_code ec;
  std::filesystem::create_directories(a.opt.output_dir, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create output directory {}: {}", a.opt.output_dir.string(), ec.message()));
  auto log = open_run_log(a.opt.output_dir, command);
  log->info("{} start inputs=[{}] threads={} validate_ids={} validate_signatures={} filter_kinds={} level={}", command,
            fmt::join(a.opt.inputs, ","), a.opt.threads, a.opt.validation.check_ids, a.opt.validation.check_signatures,
            a.opt.filter_invalid_kinds, a.compression_level);

  ProgressLine progress(!a.no_progress && (a.force_progress || ::isatty(STDERR_FILENO)));
  CliObserver observer(*log, progress, a.verbose);
  ConvertStats stats;
  try {
    stats = run_convert(a.opt, observer);
  } catch (const std::exception& e) {
    progress.finish();
    log->error("{} failed: {}", command, e.what());
    throw;
  }
  progress.finish();

  const std::string json = json_summary(stats);
  log->info("{} done {}", command, json.substr(0, json.size() - 1));
  log->flush();
  std::FILE* human_out = a.summary_json == "-" ? stderr : stdout;
  std::fputs(human_summary(stats, command).c_str(), human_out);
  if (a.summary_json == "-") {
    std::fputs(json.c_str(), stdout);
  } else if (!a.summary_json.empty()) {
    std::ofstream f(a.summary_json, std::ios::binary | std::ios::trunc);
    f << json;
    if (!f) throw std::runtime_error("cannot write the summary to " + a.summary_json);
  }
  int exit_code = stats.input_errors.empty() ? kExitOk : kExitInputDamaged;
  if (s3_plan) {
    // The writer has released the archive by now; the upload takes its own shared lock.
    const bool progress_on = !a.no_progress && (a.force_progress || ::isatty(STDERR_FILENO));
    if (run_sync(SyncDirection::push, a.opt.output_dir, *s3_plan, progress_on, false, human_out, log.get()) != kExitOk)
      exit_code = kExitUploadFailed;
    log->flush();
  }
  return {stats, exit_code};
}

}  // namespace pb::cli
