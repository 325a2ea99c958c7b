// What the S3 commands and --s3-output share: the options, turning them into a client configuration,
// the progress line, and the summaries.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/logger.h>

#include "s3/archive_sync.hpp"

namespace pb::cli {

struct S3Args {
  std::string url;       // --s3-output (convert, merge, index rebuild); the positional URL for s3 push/pull
  std::string endpoint;  // --s3-endpoint
  std::string part_size = "64M";
  int jobs = 4;
  int max_attempts = 6;
  int list_page_size = 0;
  bool no_progress = false;
};

// Rejects (as a usage error) anything parse_s3_url rejects.
CLI::Validator s3_url_check();

// --s3-endpoint, --s3-part-size, --s3-jobs and the hidden test knobs --s3-max-attempts,
// --s3-list-page-size. With `output_flag`, also --s3-output.
void add_s3_options(CLI::App* cmd, S3Args& a, bool output_flag);

// Everything resolved before any work starts, so a bad URL or missing credentials stop a convert
// before it converts.
struct S3Plan {
  s3::S3Location location;
  s3::AwsConfig config;
  s3::SyncOptions sync;
};
// Throws std::runtime_error with a message for the user.
S3Plan resolve_s3(const S3Args& a);

enum class SyncDirection { push, pull };

// Runs push or pull with a progress line on a terminal, then prints the human summary to `out` (or
// the JSON one to stdout when `json`). Also logs to `log` when given. Returns kExitOk, or
// kExitUploadFailed when any file failed or the transfer stopped (the message is on stderr).
int run_sync(SyncDirection dir, const std::filesystem::path& archive, const S3Plan& plan, bool progress, bool json,
             std::FILE* out, spdlog::logger* log);

}  // namespace pb::cli
