// `proton-beam merge DIR SOURCE...`: fold other archives into DIR through the same pipeline and writer
// as convert, so every event ends up in DIR exactly once and a crash mid-merge loses nothing.
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/pipeline_command.hpp"
#include "archive/day.hpp"

namespace pb::cli {
namespace {

namespace fs = std::filesystem;

struct MergeArgs {
  PipelineArgs pipeline;
  std::vector<std::string> sources;
  bool cleanup = false;
};

std::vector<fs::path> day_files_of(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && parse_day_file_name(e.path().filename().string())) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Everything a Proton Beam archive folder holds; the folder itself goes when nothing else is left.
void remove_source(const fs::path& src) {
  if (!fs::is_directory(src)) {
    fs::remove(src);
    return;
  }
  for (const auto& f : day_files_of(src)) fs::remove(f);
  for (const char* name : {"index.db", "index.db-wal", "index.db-shm", "proton-beam.log", ".proton-beam.journal",
                           ".proton-beam.lock"})
    fs::remove(src / name);
  std::error_code ec;
  fs::remove(src, ec);  // fails harmlessly when the user kept other files there
}

int run(MergeArgs& a) {
  const fs::path dest = fs::weakly_canonical(a.pipeline.opt.output_dir);
  a.pipeline.opt.format = InputFormat::archive_records;
  a.pipeline.opt.inputs.clear();
  for (const auto& s : a.sources) {
    const fs::path src(s);
    if (!fs::exists(src)) throw std::runtime_error(fmt::format("{}: no such archive or day file", s));
    if (fs::weakly_canonical(src) == dest) throw std::runtime_error(fmt::format("{}: a source cannot be the destination", s));
    if (fs::is_directory(src)) {
      for (const auto& f : day_files_of(src)) a.pipeline.opt.inputs.push_back(f.string());
    } else if (parse_day_file_name(src.filename().string())) {
      a.pipeline.opt.inputs.push_back(src.string());
    } else {
      throw std::runtime_error(fmt::format("{}: not an archive folder or a YYYY_MM_DD.pb.gz day file", s));
    }
  }
  PipelineResult r = run_pipeline(a.pipeline, "merge");
  if (a.cleanup) {
    // Only once every event is committed in DIR, and only when nothing in the sources was unreadable or
    // rejected: removing them would lose what we could not take.
    if (!r.stats.input_errors.empty() || r.stats.invalid > 0) {
      fmt::print(stderr, "merge: --cleanup skipped: {} damaged source file(s) and {} rejected record(s) must be looked at first\n",
                 r.stats.input_errors.size(), r.stats.invalid);
      return r.exit_code == kExitOk ? kExitInputDamaged : r.exit_code;
    }
    for (const auto& s : a.sources) remove_source(s);
    fmt::print(stderr, "merge: removed {} source(s)\n", a.sources.size());
  }
  return r.exit_code;
}

}  // namespace

CommandRunner register_merge(CLI::App& app) {
  auto args = std::make_shared<MergeArgs>();
  CLI::App* cmd = app.add_subcommand("merge", "Fold other archives into one: every event stored exactly once");
  cmd->description(
      "Merge the day files of SOURCE archives (folders, or single YYYY_MM_DD.pb.gz files) into the archive\n"
      "DIR: every event of every source is stored in DIR exactly once (ids already there count as\n"
      "duplicates), through the same crash-safe writer as convert. Records are decoded and their ids\n"
      "re-checked (signatures too with --validate-signatures). `merge DIR` with no source only completes\n"
      "an interrupted write (crash recovery) and exits.");
  cmd->footer(kExitCodeHelp);
  args->pipeline.opt.output_dir = "pb_data";
  args->pipeline.opt.validation = {.check_ids = true, .check_signatures = false};
  cmd->add_option("dir", args->pipeline.opt.output_dir, "Destination archive (created if missing)")->required();
  cmd->add_option("sources", args->sources, "Source archives or day files");
  cmd->add_flag("--validate-signatures{true}", args->pipeline.opt.validation.check_signatures,
                "Also verify BIP-340 signatures of the source events (default false: sources were validated when converted)");
  cmd->add_flag("--cleanup", args->cleanup,
                "Remove the sources once everything they held is committed in DIR (refused if anything was rejected)");
  add_pipeline_options(cmd, args->pipeline);
  return [args] { return run(*args); };
}

}  // namespace pb::cli
