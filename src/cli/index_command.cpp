// `proton-beam index rebuild`: a fresh index.db from the day files alone.
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/progress.hpp"
#include "cli/s3_transfer.hpp"
#include "ops/rebuild.hpp"
#include "nostr/canonical.hpp"

namespace pb::cli {
namespace {

struct IndexArgs {
  RebuildOptions rebuild;
  bool no_progress = false;
  bool json = false;
  S3Args s3;
};

int run_rebuild(IndexArgs& a) {
  if (const char* n = std::getenv("PB_FAULT_REBUILD_TAGS_AFTER")) a.rebuild.fail_tags_after = std::stoull(n);
  std::optional<S3Plan> s3_plan;
  if (!a.s3.url.empty()) s3_plan = resolve_s3(a.s3);  // before the work: a bad URL should not cost a rebuild
  ProgressLine progress(!a.no_progress && ::isatty(STDERR_FILENO));
  const auto t0 = std::chrono::steady_clock::now();
  const RebuildStats s = rebuild_index(a.rebuild, [&](std::uint64_t records, std::uint64_t bytes, std::uint64_t total) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    progress.show(fmt::format("{} records, {:.0f}/s | {} / {}", records, secs > 0 ? static_cast<double>(records) / secs : 0.0,
                              human_bytes(static_cast<double>(bytes)), human_bytes(static_cast<double>(total))));
  });
  progress.finish();
  const double rate = s.elapsed_s > 0 ? static_cast<double>(s.records) / s.elapsed_s : 0.0;
  if (a.json) {
    std::string damaged;
    for (const auto& d : s.damaged) {
      if (!damaged.empty()) damaged += ',';
      append_json_string(damaged, d);
    }
    fmt::print("{{\"files\":{},\"records\":{},\"events\":{},\"duplicates\":{},\"undecodable\":{},\"bytes\":{},"
               "\"elapsed_s\":{:.3f},\"records_per_s\":{:.1f},\"damaged\":[{}]}}\n",
               s.files, s.records, s.events, s.duplicates, s.undecodable, s.bytes, s.elapsed_s, rate, damaged);
  } else {
    fmt::print("Index rebuilt in {}: {} events from {} day files ({}), {:.0f} records/s\n", human_duration(s.elapsed_s),
               s.events, s.files, human_bytes(static_cast<double>(s.bytes)), rate);
    if (s.duplicates) fmt::print("  {} records repeat an id already indexed from an earlier file\n", s.duplicates);
    if (s.undecodable) fmt::print("  {} records could not be decoded and were not indexed\n", s.undecodable);
  }
  for (const auto& d : s.damaged)
    fmt::print(stderr, "warning: {} (records before it were indexed; run `proton-beam verify --repair`)\n", d);
  const int exit_code = s.damaged.empty() && s.undecodable == 0 ? kExitOk : kExitInputDamaged;
  if (s3_plan && run_sync(SyncDirection::push, a.rebuild.dir, *s3_plan, !a.no_progress && ::isatty(STDERR_FILENO), false,
                          a.json ? stderr : stdout, nullptr) != kExitOk)
    return kExitUploadFailed;
  return exit_code;
}

}  // namespace

CommandRunner register_index(CLI::App& app) {
  auto args = std::make_shared<IndexArgs>();
  CLI::App* index = app.add_subcommand("index", "Maintain the archive's SQLite index");
  index->require_subcommand(1);
  CLI::App* rebuild = index->add_subcommand("rebuild", "Rebuild index.db from the day files");
  rebuild->description(
      "Scan every YYYY_MM_DD.pb.gz day file (in parallel) and build a fresh index beside the old one, then\n"
      "rename it over index.db: a crash leaves the old index or the new one, never a half one. Records\n"
      "whose id an earlier file (by name) already holds are counted as duplicates and indexed once.\n"
      "PB_FAULT_REBUILD_TAGS_AFTER=N (tests) makes the tag-index thread fail after N files.");
  rebuild->footer(kExitCodeHelp);
  rebuild->add_option("dir", args->rebuild.dir, "Archive directory")->capture_default_str();
  rebuild->add_option("--index-path", args->rebuild.index_path, "Where to write the index (default: DIR/index.db)");
  rebuild->add_option("-j,--parallel", args->rebuild.threads, "Decoding threads (default: number of CPUs)")
      ->check(CLI::Range(1, 1024));
  rebuild->add_flag("--no-progress", args->no_progress, "Never show the progress line");
  rebuild->add_flag("--json", args->json, "Print the summary as JSON");
  add_s3_options(rebuild, args->s3, true);
  return [args, rebuild] { return rebuild->parsed() ? run_rebuild(*args) : kExitUsage; };
}

}  // namespace pb::cli
