// `proton-beam compact`: rewrites day files made of many small gzip members (the daemon's frequent
// commits) into members of the normal size. The work is archive/compact.*; this file parses options,
// picks the files and prints.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "archive/compact.hpp"
#include "archive/day.hpp"
#include "archive/run_log.hpp"
#include "archive/writer.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/progress.hpp"
#include "nostr/canonical.hpp"

namespace pb::cli {
namespace {

struct CompactArgs {
  std::string dir = "pb_data";
  std::vector<std::string> days;  // YYYY-MM-DD
  std::string summary_json;
  int compression_level = 6;
  std::size_t member_kib = kDefaultMemberBytes >> 10;
  bool no_fsync = false;
  bool sort_by_time = false;
  std::size_t sort_max_mib = 1024;
};

// "YYYY-MM-DD" (a real calendar date) -> its day-file name.
std::optional<std::string> day_file_of(const std::string& text) {
  unsigned y = 0, m = 0, d = 0;
  char tail = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3) return std::nullopt;
  const CivilDate date{static_cast<std::int64_t>(y), m, d};
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  const std::int64_t days = days_from_civil(date);
  const CivilDate back = civil_from_days(days);
  if (back.year != date.year || back.month != m || back.day != d) return std::nullopt;  // e.g. 2025-02-30
  return day_file_name(days);
}

// PB_FAULT_COMPACT_AT=<step> kills the process (SIGKILL, like kill -9) at that step of a compaction:
// the crash tests' hook (steps in archive/compact.hpp).
std::function<void(std::string_view)> fault_hook() {
  const char* at = std::getenv("PB_FAULT_COMPACT_AT");
  if (!at || !*at) return {};
  return [step = std::string(at)](std::string_view s) {
    if (s == step) ::raise(SIGKILL);
  };
}

std::string human_line(const CompactResult& r) {
  if (!r.compacted) return fmt::format("  {}: {}: {}\n", r.file, r.failed ? "failed" : "skipped", r.skipped);
  return fmt::format("  {}: {} events, {} members ({}) -> {} members ({}, {:.1f}%){} in {}\n", r.file, r.events,
                     r.members_before, human_bytes(static_cast<double>(r.bytes_before)), r.members_after,
                     human_bytes(static_cast<double>(r.bytes_after)),
                     r.bytes_before ? 100.0 * static_cast<double>(r.bytes_after) / static_cast<double>(r.bytes_before) : 0.0,
                     r.sorted ? ", sorted by time" : "", human_duration(r.elapsed_s));
}

struct Totals {
  std::uint64_t compacted = 0, skipped = 0, failed = 0, needs_repair = 0;
  std::uint64_t bytes_before = 0, bytes_after = 0, members_before = 0, members_after = 0;
};

Totals totals_of(const std::vector<CompactResult>& results) {
  Totals t;
  for (const auto& r : results) {
    (r.compacted ? t.compacted : t.skipped) += 1;
    t.failed += r.failed;
    t.needs_repair += r.skipped.find("verify --repair") != std::string::npos;
    t.bytes_before += r.bytes_before;
    t.bytes_after += r.bytes_after;
    t.members_before += r.members_before;
    t.members_after += r.members_after;
  }
  return t;
}

std::string json_summary(const std::string& dir, const std::vector<CompactResult>& results, double elapsed) {
  const Totals t = totals_of(results);
  std::string o = "{\"archive\":";
  append_json_string(o, dir);
  o += fmt::format(",\"files_checked\":{},\"files_compacted\":{},\"files_skipped\":{},\"files_failed\":{},"
                   "\"bytes_before\":{},\"bytes_after\":{},\"members_before\":{},\"members_after\":{},\"elapsed_s\":{:.3f},"
                   "\"files\":[",
                   results.size(), t.compacted, t.skipped, t.failed, t.bytes_before, t.bytes_after, t.members_before,
                   t.members_after, elapsed);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const CompactResult& r = results[i];
    o += i ? ",{\"file\":" : "{\"file\":";
    append_json_string(o, r.file);
    o += fmt::format(",\"compacted\":{},\"sorted\":{},\"failed\":{},\"skipped\":", r.compacted, r.sorted, r.failed);
    if (r.compacted) o += "null";
    else append_json_string(o, r.skipped);
    o += fmt::format(",\"events\":{},\"members_before\":{},\"members_after\":{},\"bytes_before\":{},\"bytes_after\":{},"
                     "\"elapsed_s\":{:.3f}}}",
                     r.events, r.members_before, r.members_after, r.bytes_before, r.bytes_after, r.elapsed_s);
  }
  return o + "]}";
}

// The files to look at: the named days (compacted whenever that shrinks them), else every day file the
// policy selects.
std::vector<std::string> pick_files(ArchiveWriter& w, const CompactArgs& a) {
  std::vector<std::string> files;
  if (a.days.empty()) {
    for (const FileRow& f : w.index().files())
      if (parse_day_file_name(f.file_name)) files.push_back(f.file_name);
    std::sort(files.begin(), files.end());
    return files;
  }
  for (const auto& d : a.days) {
    const auto name = day_file_of(d);
    if (!name) throw CLI::ValidationError("--day", d + " is not a date YYYY-MM-DD");
    if (!w.index().file(*name)) throw std::runtime_error(fmt::format("{} has no day file for {} ({})", a.dir, d, *name));
    files.push_back(*name);
  }
  return files;
}

int run(const CompactArgs& a) {
  namespace fs = std::filesystem;
  // Never create an archive here: a typo in DIR must not leave an empty one behind.
  if (!fs::exists(fs::path(a.dir) / "index.db"))
    throw std::runtime_error(fmt::format("{} is not an archive (no index.db)", a.dir));
  const auto t0 = std::chrono::steady_clock::now();
  ArchiveWriterOptions wo;
  wo.compression_level = a.compression_level;
  wo.member_bytes = a.member_kib << 10;
  wo.fsync = !a.no_fsync;
  wo.compression_threads = 0;
  ArchiveWriter w(a.dir, wo);  // takes the writer lock (refused while another process writes) and recovers
  std::FILE* human = a.summary_json == "-" ? stderr : stdout;
  for (const auto& action : w.recovery().actions) fmt::print(human, "recovery: {}\n", action);
  std::vector<std::string> files;
  try {
    files = pick_files(w, a);
  } catch (const CLI::ValidationError& e) {
    fmt::print(stderr, "proton-beam compact: {}\n", e.what());
    return kExitUsage;
  }
  CompactOptions co;
  co.force = !a.days.empty();
  co.sort_by_time = a.sort_by_time;
  co.sort_max_bytes = a.sort_max_mib << 20;
  co.crash_point = fault_hook();
  auto log = open_run_log(a.dir, "compact");
  std::vector<CompactResult> results;
  for (const auto& name : files) {
    results.push_back(compact_day_file(w, name, co));
    const CompactResult& r = results.back();
    if (r.compacted)
      log->info("compact {}: members {} -> {}, bytes {} -> {}", r.file, r.members_before, r.members_after, r.bytes_before,
                r.bytes_after);
    else if (r.failed || r.skipped.find("verify --repair") != std::string::npos)
      log->warn("compact {}: {}", r.file, r.skipped);
  }
  log->flush();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Totals t = totals_of(results);
  std::string out = fmt::format("Compacted {} of {} day files of {} in {}: {} members ({}) -> {} members ({})\n", t.compacted,
                                results.size(), a.dir, human_duration(elapsed), t.members_before,
                                human_bytes(static_cast<double>(t.bytes_before)), t.members_after,
                                human_bytes(static_cast<double>(t.bytes_after)));
  for (const auto& r : results)
    if (r.compacted || !a.days.empty() || r.failed || r.skipped.find("verify --repair") != std::string::npos ||
        r.skipped.find("too large to sort") != std::string::npos)
      out += human_line(r);
  std::fputs(out.c_str(), human);
  if (a.summary_json == "-") {
    std::fputs((json_summary(a.dir, results, elapsed) + "\n").c_str(), stdout);
  } else if (!a.summary_json.empty()) {
    std::ofstream f(a.summary_json, std::ios::binary | std::ios::trunc);
    f << json_summary(a.dir, results, elapsed) << "\n";
    if (!f) throw std::runtime_error("cannot write the summary to " + a.summary_json);
  }
  if (t.failed) return kExitFailure;
  return t.needs_repair ? kExitArchiveProblems : kExitOk;
}

}  // namespace

CommandRunner register_compact(CLI::App& app) {
  auto args = std::make_shared<CompactArgs>();
  CLI::App* cmd = app.add_subcommand("compact", "Rewrite day files made of many small gzip members into normal ones");
  cmd->description(
      "Rewrite day files written in many small commits (e.g. by proton-beam-daemon) into gzip members of the\n"
      "normal size (~64 KiB of records, --member-kib), records in their order, and move the index\n"
      "rows to the new members in one transaction. Crash-safe: a kill at any moment leaves the old file or\n"
      "the new one, and the next writer (or verify --repair) completes an interrupted swap. Without --day,\n"
      "every day file with at least 8 members averaging below 1/8 of the member size is compacted; a\n"
      "named --day is compacted whenever that reduces its members. Takes the archive's writer lock: refused\n"
      "while another process (convert, merge, the daemon, verify) uses the archive, which the daemon does\n"
      "by itself for finished days (docs/daemon.md). Readers (serve, export) may run meanwhile.\n"
      "Exit 4 when a file was skipped as damaged or out of step with the index (run verify --repair).\n"
      "--sort-by-time also puts each day file's records in created_at order (ties by id): a query for a\n"
      "time window then reads a few members instead of most of the day's (proton-beam serve; docs/serve.md).\n"
      "It rewrites every day file not already in that order, holding one day's records in memory.\n"
      "PB_FAULT_COMPACT_AT=STEP (tests) kills the process at a step: writing, prepared, committed,\n"
      "renamed, done.");
  cmd->footer(kExitCodeHelp);
  cmd->add_option("dir", args->dir, "Archive directory")->capture_default_str();
  cmd->add_option("--day", args->days, "Compact this UTC day's file (YYYY-MM-DD); repeatable");
  cmd->add_option("--summary-json", args->summary_json, "Write the machine-readable summary to FILE ('-' for stdout)");
  cmd->add_option("--compression-level", args->compression_level, "gzip level of the rewritten members, 0-9")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  cmd->add_option("--member-kib", args->member_kib, "Advanced: records per gzip member, in KiB (docs/archive-format.md)")
      ->check(CLI::Range(16, 16384))
      ->capture_default_str();
  cmd->add_flag("--sort-by-time", args->sort_by_time,
                "Also order each day file's records by created_at (then id), for time-window queries");
  cmd->add_option("--sort-max-mib", args->sort_max_mib,
                  "Largest day file (records, uncompressed) --sort-by-time sorts in memory; larger are skipped")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_flag("--no-fsync", args->no_fsync, "Advanced: skip fsync (still safe against kills, not power loss)");
  return [args] { return run(*args); };
}

}  // namespace pb::cli
