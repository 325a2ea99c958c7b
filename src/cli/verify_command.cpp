// `proton-beam verify`: checks an archive (day files against themselves and the index) and, with
// --repair, fixes it. The logic lives in core/archive_verify.*; this file parses options and prints.
#include <unistd.h>

#include <cstdio>
#include <limits>
#include <thread>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/progress.hpp"
#include "ops/verify.hpp"
#include "nostr/canonical.hpp"
#include "nostr/hex.hpp"
#include "archive/run_log.hpp"

namespace pb::cli {
namespace {

struct VerifyArgs {
  std::string dir = "pb_data";
  bool signatures = false;
  bool repair = false;
  bool json = false;
  std::size_t max_list = 20;
  unsigned threads = 0;
  bool no_fsync = false;
  bool no_progress = false;
  bool force_progress = false;
};

std::string where(const Problem& p) {
  std::string w = p.file.empty() ? std::string("archive") : p.file;
  if (p.offset) w += fmt::format(" byte {}", *p.offset);
  if (p.record) w += fmt::format(" record {}", *p.record);
  if (p.id) w += " id " + to_hex(*p.id);
  return w;
}

std::string human_verify(const VerifyReport& r, const char* title) {
  const double rate = r.elapsed_s > 0 ? static_cast<double>(r.records) / r.elapsed_s : 0.0;
  std::string o = fmt::format("{} {} in {}: {} day files ({}), {} records, {} valid events, {} index rows ({:.0f} records/s)\n",
                              title, r.dir.string(), human_duration(r.elapsed_s), r.files,
                              human_bytes(static_cast<double>(r.bytes)), r.records, r.valid_records, r.index_rows, rate);
  o += r.signatures_checked ? "  ids and signatures checked for every record\n"
                            : "  ids checked for every record; signatures not checked (--signatures)\n";
  if (r.ok()) {
    o += "  no problems: every record verifies and the index matches the day files\n";
    return o;
  }
  o += fmt::format("  {} problems:", r.problem_count());
  for (std::size_t k = 0; k < kProblemKindCount; ++k)
    if (r.counts[k]) o += fmt::format(" {} {}", problem_kind_name(static_cast<ProblemKind>(k)), r.counts[k]);
  o += "\n";
  for (std::size_t k = 0; k < kProblemKindCount; ++k) {
    if (!r.counts[k]) continue;
    const auto kind = static_cast<ProblemKind>(k);
    o += fmt::format("  {} ({}):\n", problem_kind_name(kind), r.counts[k]);
    std::uint64_t shown = 0;
    for (const Problem& p : r.problems) {
      if (p.kind != kind) continue;
      o += fmt::format("    {}: {}\n", where(p), p.message);
      ++shown;
    }
    if (shown < r.counts[k]) o += fmt::format("    ... and {} more (--max-list)\n", r.counts[k] - shown);
  }
  if (r.salvageable) o += fmt::format("  {} valid records before damage points can be salvaged\n", r.salvageable);
  return o;
}

std::string json_verify(const VerifyReport& r) {
  std::string o = "{";
  o += "\"archive\":";
  append_json_string(o, r.dir.string());
  o += fmt::format(",\"ok\":{},\"signatures_checked\":{},\"files\":{},\"bytes\":{},\"records\":{},\"valid_records\":{},"
                   "\"index_rows\":{},\"salvageable\":{},\"elapsed_s\":{:.3f},\"records_per_s\":{:.1f},\"problem_count\":{},"
                   "\"problems\":{{",
                   r.ok(), r.signatures_checked, r.files, r.bytes, r.records, r.valid_records, r.index_rows,
                   r.salvageable, r.elapsed_s, r.elapsed_s > 0 ? static_cast<double>(r.records) / r.elapsed_s : 0.0,
                   r.problem_count());
  for (std::size_t k = 0; k < kProblemKindCount; ++k) {
    const auto kind = static_cast<ProblemKind>(k);
    if (k) o += ',';
    o += fmt::format("\"{}\":{{\"count\":{},\"items\":[", problem_kind_name(kind), r.counts[k]);
    bool first = true;
    for (const Problem& p : r.problems) {
      if (p.kind != kind) continue;
      if (!first) o += ',';
      first = false;
      o += "{\"file\":";
      if (p.file.empty()) o += "null";
      else append_json_string(o, p.file);
      o += ",\"offset\":" + (p.offset ? fmt::format("{}", *p.offset) : std::string("null"));
      o += ",\"record\":" + (p.record ? fmt::format("{}", *p.record) : std::string("null"));
      o += ",\"id\":" + (p.id ? "\"" + to_hex(*p.id) + "\"" : std::string("null"));
      o += ",\"message\":";
      append_json_string(o, p.message);
      o += '}';
    }
    o += "]}";
  }
  o += "}}";
  return o;
}

std::string human_repair(const RepairReport& r) {
  std::string o = human_verify(r.before, "Verified");
  if (!r.changed) return o + "Nothing to repair.\n";
  o += "Repair:\n";
  for (const auto& a : r.actions) o += "  " + a + "\n";
  o += fmt::format("  records: {} salvaged from damaged members, {} moved to their day's file, {} dropped; {} damaged bytes cut\n",
                   r.records_salvaged, r.records_moved, r.records_dropped, r.damaged_bytes);
  o += fmt::format("  index rows: {} inserted, {} corrected, {} deleted; files: {} rewritten, {} removed\n", r.rows_inserted,
                   r.rows_updated, r.rows_deleted, r.files_rewritten, r.files_removed);
  o += human_verify(r.after, "After repair, verified");
  return o;
}

std::string json_repair(const RepairReport& r) {
  std::string actions;
  for (const auto& a : r.actions) {
    if (!actions.empty()) actions += ',';
    append_json_string(actions, a);
  }
  std::string backups;
  for (const auto& b : r.backups) {
    if (!backups.empty()) backups += ',';
    append_json_string(backups, b);
  }
  return fmt::format(
      "{{\"ok\":{},\"before\":{},\"repair\":{{\"changed\":{},\"actions\":[{}],\"records_salvaged\":{},\"records_moved\":{},"
      "\"records_dropped\":{},\"damaged_bytes\":{},\"rows_inserted\":{},\"rows_updated\":{},\"rows_deleted\":{},"
      "\"files_rewritten\":{},\"files_removed\":{},\"backups\":[{}]}},\"after\":{}}}",
      r.after.ok(), json_verify(r.before), r.changed, actions, r.records_salvaged, r.records_moved, r.records_dropped,
      r.damaged_bytes, r.rows_inserted, r.rows_updated, r.rows_deleted, r.files_rewritten, r.files_removed, backups,
      json_verify(r.after));
}

int run(const VerifyArgs& a) {
  VerifyOptions vo;
  vo.check_signatures = a.signatures;
  vo.threads = a.threads ? a.threads : std::max(1u, std::thread::hardware_concurrency());
  vo.max_listed = a.max_list == 0 ? std::numeric_limits<std::size_t>::max() : a.max_list;

  ProgressLine progress(!a.no_progress && (a.force_progress || ::isatty(STDERR_FILENO)));
  auto on_progress = [&](const VerifyProgress& p) {
    progress.show(fmt::format("verify: {}/{} files, {} records, {} / {}", p.files_done, p.files_total, p.records,
                              human_bytes(static_cast<double>(p.bytes_done)), human_bytes(static_cast<double>(p.bytes_total))));
  };
  std::function<void(const VerifyProgress&)> cb;
  if (progress.enabled()) cb = on_progress;

  if (!a.repair) {
    const VerifyReport r = verify_archive(a.dir, vo, cb);
    progress.finish();
    const std::string out = a.json ? json_verify(r) + "\n" : human_verify(r, "Verified");
    std::fputs(out.c_str(), stdout);
    if (!a.json && !r.ok())
      std::fputs(fmt::format("The archive has problems; `proton-beam verify --repair {}` fixes them "
                             "(docs/archive-format.md, \"Verify and repair\").\n", a.dir).c_str(), stdout);
    return r.ok() ? kExitOk : kExitArchiveProblems;
  }

  RepairOptions ro;
  ro.verify = vo;
  ro.fsync = !a.no_fsync;
  const RepairReport r = repair_archive(a.dir, ro, cb);
  progress.finish();
  if (r.changed) {
    // Repairs change the archive: say what in its log, like every other writer.
    auto log = open_run_log(a.dir, "verify");
    log->info("verify --repair: {} problems before", r.before.problem_count());
    for (const auto& action : r.actions) log->warn("repair {}", action);
    log->info("verify --repair done: salvaged={} moved={} dropped={} bytes_cut={} rows_inserted={} rows_updated={} "
              "rows_deleted={} problems_after={}",
              r.records_salvaged, r.records_moved, r.records_dropped, r.damaged_bytes, r.rows_inserted, r.rows_updated,
              r.rows_deleted, r.after.problem_count());
    log->flush();
  }
  const std::string out = a.json ? json_repair(r) + "\n" : human_repair(r);
  std::fputs(out.c_str(), stdout);
  return r.after.ok() ? kExitOk : kExitArchiveProblems;
}

}  // namespace

CommandRunner register_verify(CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* cmd = app.add_subcommand("verify", "Check an archive's day files and index; --repair fixes them");
  cmd->description(
      "Check every day file of an archive (gzip integrity, record framing, decoding, created_at day, event\n"
      "ids, and signatures with --signatures), duplicate ids, and index.db against the files (rows without\n"
      "events, events without rows, wrong file/member, the files table). Each problem is reported with its\n"
      "file, byte offset, record number and id. --repair takes the archive's writer lock and fixes what it\n"
      "found without ever dropping a valid event: torn or corrupt tails are cut after salvaging every\n"
      "complete valid record before the damage, invalid records and extra copies are removed, misplaced\n"
      "events move to their day's file, and the index is brought in step (docs/archive-format.md).");
  cmd->footer(kExitCodeHelp);
  cmd->add_option("dir", args->dir, "Archive directory")->capture_default_str();
  cmd->add_flag("--signatures", args->signatures, "Also verify every BIP-340 signature (slower: ~60 us per event per core)");
  cmd->add_flag("--repair", args->repair, "Fix the problems found (takes the writer lock), then verify again");
  cmd->add_flag("--json", args->json, "Print the report as JSON on stdout");
  cmd->add_option("--max-list", args->max_list, "Problems listed per kind (counts are always complete; 0 = all)")
      ->capture_default_str();
  cmd->add_option("-j,--parallel", args->threads, "Threads (default: number of CPUs)")->check(CLI::Range(1, 1024));
  cmd->add_flag("--no-progress", args->no_progress, "Never show the progress line");
  cmd->add_flag("--progress", args->force_progress, "Show the progress line even when stderr is not a terminal");
  cmd->add_flag("--no-fsync", args->no_fsync, "Advanced: --repair skips fsync (still safe against kills, not power loss)");
  return [args] { return run(*args); };
}

}  // namespace pb::cli
