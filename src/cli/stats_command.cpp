// `proton-beam stats`: what an archive holds (events, days, kinds, authors) and what it costs on disk.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/progress.hpp"
#include "ops/stats.hpp"
#include "ops/stats_json.hpp"
#include "archive/day.hpp"

namespace pb::cli {
namespace {

struct StatsArgs {
  std::string dir = "pb_data";
  bool json = false;
  std::size_t top = 10;
  bool no_scan = false;
  unsigned threads = 0;
  bool no_progress = false;
  bool force_progress = false;
};

std::string date_text(std::int64_t days) {
  const CivilDate d = civil_from_days(days);
  return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

std::string time_text(std::int64_t unix_seconds) {
  const std::int64_t day = day_number(unix_seconds);
  const std::int64_t s = unix_seconds - day * 86400;
  return fmt::format("{}T{:02}:{:02}:{:02}Z", date_text(day), s / 3600, s / 60 % 60, s % 60);
}

std::string human_report(const std::string& dir, const ArchiveStats& s, std::size_t top) {
  std::string o;
  auto line = [&](const char* label, const std::string& value) { o += fmt::format("  {:<19}{}\n", label, value); };
  o += fmt::format("Archive {}\n", dir);
  line("Events:", fmt::format("{}", s.events));
  line("Day files:", s.first_day ? fmt::format("{} ({} to {})", s.day_files, date_text(*s.first_day),
                                               date_text(*s.last_day))
                                 : "0");
  if (s.created_at) line("Created at:", fmt::format("{} to {}", time_text(s.created_at->first), time_text(s.created_at->second)));
  line("Distinct authors:", fmt::format("{}", s.distinct_authors));
  line("Day-file bytes:", fmt::format("{} ({} bytes)", human_bytes(static_cast<double>(s.day_file_bytes)), s.day_file_bytes));
  line("Index bytes:", fmt::format("{} ({} bytes)", human_bytes(static_cast<double>(s.index_bytes)), s.index_bytes));
  if (s.scanned) {
    line("JSON size:", fmt::format("{} ({} bytes of compact NIP-01 JSON)", human_bytes(static_cast<double>(s.json_bytes)),
                                   s.json_bytes));
    line("Protobuf size:", fmt::format("{} (uncompressed records)", human_bytes(static_cast<double>(s.proto_bytes))));
    line("Compression ratio:", fmt::format("{:.2f}x (JSON size / day-file bytes)", s.compression_ratio()));
  } else {
    line("Compression ratio:", "not computed (--no-scan)");
  }
  if (s.unindexed_day_files) line("Not in the index:", fmt::format("{} day files", s.unindexed_day_files));
  const std::size_t shown = top == 0 ? s.kinds.size() : std::min(top, s.kinds.size());
  o += fmt::format("Events by kind (top {} of {} kinds):\n", shown, s.kinds.size());
  if (shown) o += fmt::format("  {:>6} {:>12} {:>7}\n", "kind", "events", "share");
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& k = s.kinds[i];
    o += fmt::format("  {:>6} {:>12} {:>6.1f}%\n", k.kind, k.events,
                     s.events ? 100.0 * static_cast<double>(k.events) / static_cast<double>(s.events) : 0.0);
  }
  return o;
}

int run(const StatsArgs& a) {
  ProgressLine progress(!a.no_progress && !a.no_scan && (a.force_progress || ::isatty(STDERR_FILENO)));
  ArchiveStatsOptions opt;
  opt.scan = !a.no_scan;
  opt.threads = a.threads;
  if (progress.enabled()) {
    opt.on_progress = [&](std::uint64_t done, std::uint64_t total) {
      progress.show(fmt::format("scanning day files: {} / {} ({:.1f}%)", human_bytes(static_cast<double>(done)),
                                human_bytes(static_cast<double>(total)), total ? 100.0 * done / total : 100.0));
    };
  }
  ArchiveStats s;
  try {
    s = collect_archive_stats(a.dir, opt);
  } catch (...) {
    progress.finish();
    throw;
  }
  progress.finish();

  for (const auto& p : s.problems) fmt::print(stderr, "warning: {}\n", p);
  if (s.problem_count > s.problems.size())
    fmt::print(stderr, "warning: ... and {} more problems\n", s.problem_count - s.problems.size());
  if (s.scanned && s.problem_count == 0 && s.scanned_events != s.events)
    fmt::print(stderr, "warning: the day files hold {} events but the index lists {}\n", s.scanned_events, s.events);
  if (s.unindexed_day_files)
    fmt::print(stderr, "warning: {} day files in {} are not in the index (not counted)\n", s.unindexed_day_files, a.dir);

  const std::string report = a.json ? stats_json(s, a.top) + "\n" : human_report(a.dir, s, a.top);
  std::fputs(report.c_str(), stdout);
  if (std::fflush(stdout) != 0) throw std::runtime_error("cannot write to stdout");
  return s.problem_count == 0 ? kExitOk : kExitInputDamaged;
}

}  // namespace

CommandRunner register_stats(CLI::App& app) {
  auto args = std::make_shared<StatsArgs>();
  CLI::App* cmd = app.add_subcommand("stats", "Show what an archive holds and how well it is compressed");
  cmd->description(
      "Show an archive's figures: events, day files and their date range, distinct authors, events by kind\n"
      "(from the index), bytes on disk of the day files and the index, and the compression ratio: the size\n"
      "of every event as compact NIP-01 JSON (what export writes, without newlines) over the day-file bytes.\n"
      "The ratio needs a full scan of the day files (in parallel, one file per thread); --no-scan skips it.\n"
      "\n"
      "--json keys: events, day_files, first_day, last_day (YYYY-MM-DD or null), oldest_created_at,\n"
      "newest_created_at, distinct_authors, day_file_bytes, committed_bytes, index_bytes (index.db + -wal +\n"
      "-shm), unindexed_day_files, scanned, scanned_events, json_bytes, protobuf_bytes, compression_ratio\n"
      "(the last four null with --no-scan), problems, distinct_kinds, kinds [{kind, events}] (top N).");
  cmd->footer(
      "Exit status: 0 done; 1 missing or unreadable archive; 2 bad options; 3 done, but the scan met\n"
      "damaged day files (reported on stderr).");
  cmd->add_option("dir", args->dir, "Archive directory")->capture_default_str()->type_name("DIR");
  cmd->add_flag("--json", args->json, "Print one JSON object instead of the human report");
  cmd->add_option("--top", args->top, "Kinds to list, most events first (0 = all)")
      ->capture_default_str()
      ->type_name("N")
      ->check(CLI::Range(0, 1'000'000));
  cmd->add_flag("--no-scan", args->no_scan, "Skip the day-file scan (no JSON size or compression ratio)");
  cmd->add_option("-j,--threads", args->threads, "Scan threads (default: number of CPUs)")->type_name("N")->check(CLI::Range(1, 1024));
  cmd->add_flag("--no-progress", args->no_progress, "Never show the progress line");
  cmd->add_flag("--progress", args->force_progress, "Show the progress line even when stderr is not a terminal");
  return [args] { return run(*args); };
}

}  // namespace pb::cli
