// `proton-beam convert`: JSONL (plain, .gz, .zst, stdin) -> validated, deduplicated day files + index.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "cli/commands.hpp"
#include "cli/convert_summary.hpp"
#include "cli/exit_codes.hpp"
#include "cli/progress.hpp"
#include "core/convert_pipeline.hpp"
#include "core/run_log.hpp"

namespace pb::cli {
namespace {

struct ConvertArgs {
  ConvertOptions opt;
  bool no_progress = false;
  bool force_progress = false;
  bool verbose = false;
  std::string summary_json;
  int compression_level = 6;
  std::uint64_t commit_mb = 256;
  bool no_fsync = false;
};

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

int run(ConvertArgs& a) {
  a.opt.writer.compression_level = a.compression_level;
  a.opt.writer.commit_bytes = a.commit_mb << 20;
  a.opt.writer.fsync = !a.no_fsync;
  if (a.opt.threads == 0) a.opt.threads = std::max(1u, std::thread::hardware_concurrency());

  std::error_code ec;
  std::filesystem::create_directories(a.opt.output_dir, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create output directory {}: {}", a.opt.output_dir.string(), ec.message()));
  auto log = open_run_log(a.opt.output_dir, "convert");
  log->info("convert start inputs=[{}] threads={} validate_ids={} validate_signatures={} filter_kinds={} level={}",
            fmt::join(a.opt.inputs, ","), a.opt.threads, a.opt.validation.check_ids, a.opt.validation.check_signatures,
            a.opt.filter_invalid_kinds, a.compression_level);

  ProgressLine progress(!a.no_progress && (a.force_progress || ::isatty(STDERR_FILENO)));
  CliObserver observer(*log, progress, a.verbose);
  ConvertStats stats;
  try {
    stats = run_convert(a.opt, observer);
  } catch (const std::exception& e) {
    progress.finish();
    log->error("convert failed: {}", e.what());
    throw;
  }
  progress.finish();

  const std::string json = json_summary(stats);
  log->info("convert done {}", json.substr(0, json.size() - 1));
  log->flush();
  std::FILE* human_out = a.summary_json == "-" ? stderr : stdout;
  std::fputs(human_summary(stats).c_str(), human_out);
  if (a.summary_json == "-") {
    std::fputs(json.c_str(), stdout);
  } else if (!a.summary_json.empty()) {
    std::ofstream f(a.summary_json, std::ios::binary | std::ios::trunc);
    f << json;
    if (!f) throw std::runtime_error("cannot write the summary to " + a.summary_json);
  }
  return stats.input_errors.empty() ? kExitOk : kExitInputDamaged;
}

}  // namespace

CommandRunner register_convert(CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand("convert", "Convert JSONL Nostr events into validated, deduplicated day files");
  cmd->description(
      "Convert JSONL Nostr events (one event per line) into validated, deduplicated protobuf day files\n"
      "(YYYY_MM_DD.pb.gz by UTC day of created_at) with a SQLite index (index.db) and a log of every\n"
      "rejected line (proton-beam.log), all in the output directory. Inputs may be plain, gzip or zstd\n"
      "compressed (detected from their first bytes), or '-' for stdin. Events already in the archive are\n"
      "counted as duplicates, so re-running is safe, and a killed run is completed by running it again.");
  cmd->footer(kExitCodeHelp);
  cmd->add_option("inputs", args->opt.inputs, "JSONL files (.jsonl, .gz, .zst) or '-' for stdin")->required();
  cmd->add_option("-o,--output-dir", args->opt.output_dir, "Archive directory (created if missing)")->capture_default_str();
  cmd->add_option("-b,--batch-size", args->opt.batch_size, "Lines per work unit handed to a worker")
      ->capture_default_str()->check(CLI::Range(1, 1'000'000));
  cmd->add_option("-j,--parallel", args->opt.threads, "Worker threads (default: number of CPUs)")
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--validate-signatures{true}", args->opt.validation.check_signatures,
                "Verify BIP-340 signatures (default true; --validate-signatures=false to skip)")
      ->capture_default_str();
  cmd->add_flag("--validate-event-ids{true}", args->opt.validation.check_ids,
                "Check each id against the sha256 of the canonical form (default true)")
      ->capture_default_str();
  cmd->add_flag("--filter-invalid-kinds,!--no-filter-kinds", args->opt.filter_invalid_kinds,
                "Drop lines whose top-level kind is above 65535 before parsing; counted as 'filtered' (default on)");
  cmd->add_option("--compression-level", args->compression_level, "gzip level of new day-file members (0-9)")
      ->capture_default_str()->check(CLI::Range(0, 9));
  cmd->add_flag("--no-progress", args->no_progress, "Never show the progress line");
  cmd->add_flag("--progress", args->force_progress, "Show the progress line even when stderr is not a terminal");
  cmd->add_flag("-v,--verbose", args->verbose, "Also print every rejected line on stderr");
  cmd->add_option("--summary-json", args->summary_json, "Write the machine-readable summary to FILE ('-' for stdout)");
  cmd->add_option("--commit-mb", args->commit_mb,
                  "Advanced: commit the index after this many MiB of new records (smaller = less redone after a crash)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_flag("--no-fsync", args->no_fsync,
                "Advanced: skip fdatasync before commits (still safe against kills, not against power loss)");
  return [args] { return run(*args); };
}

}  // namespace pb::cli
