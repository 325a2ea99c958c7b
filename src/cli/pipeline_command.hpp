// What convert and merge share: the pipeline's CLI options, its observer (log, terminal, progress)
// and the end-of-run reports.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/s3_transfer.hpp"
#include "ingest/pipeline.hpp"

namespace pb::cli {

struct PipelineArgs {
  ConvertOptions opt;
  bool no_progress = false;
  bool force_progress = false;
  bool verbose = false;
  std::string summary_json;
  int compression_level = 6;
  std::uint64_t commit_mb = 256;
  std::size_t member_kib = kDefaultMemberBytes >> 10;
  std::size_t index_cache_mib = ArchiveIndex::kDefaultWriterCacheKiB >> 10;
  std::size_t pending_mib = ArchiveWriterOptions{}.max_pending_bytes >> 20;
  bool no_fsync = false;
  S3Args s3;  // --s3-output: upload after the run
};

// -j, --compression-level, --no-progress, --progress, -v, --summary-json, --commit-mb, --no-fsync,
// and the S3 options (--s3-output, ...).
void add_pipeline_options(CLI::App* cmd, PipelineArgs& a);

struct PipelineResult {
  ConvertStats stats;
  int exit_code;
};

// Runs the pipeline into a.opt.output_dir with logging, progress and summaries, then the --s3-output
// upload (exit code kExitUploadFailed when only the upload failed). `command` names the run in the log
// and the summary ("convert", "merge").
PipelineResult run_pipeline(PipelineArgs& a, const std::string& command);

}  // namespace pb::cli
