// `proton-beam s3 push DIR s3://...` and `s3 pull s3://... DIR`: the --s3-output machinery on its own.
#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/s3_transfer.hpp"

namespace pb::cli {
namespace {

struct S3CommandArgs {
  S3Args s3;
  std::string dir;
  bool json = false;
  bool force_progress = false;
};

int run(S3CommandArgs& a, SyncDirection d) {
  // A missing folder is the user's mistake, not a failed upload (exit 1, not 5).
  if (d == SyncDirection::push && !std::filesystem::is_directory(a.dir))
    throw std::runtime_error(fmt::format("{}: no such archive folder", a.dir));
  const S3Plan plan = resolve_s3(a.s3);
  const bool progress = !a.s3.no_progress && (a.force_progress || ::isatty(STDERR_FILENO));
  return run_sync(d, a.dir, plan, progress, a.json, stdout, nullptr);
}

CLI::App* add_transfer(CLI::App* s3, const char* name, const char* help, S3CommandArgs& a, bool push) {
  CLI::App* cmd = s3->add_subcommand(name, help);
  cmd->footer(kExitCodeHelp);
  if (push) {
    cmd->add_option("dir", a.dir, "Archive folder")->required();
    cmd->add_option("url", a.s3.url, "s3://BUCKET[/PREFIX]")->required()->check(s3_url_check());
  } else {
    cmd->add_option("url", a.s3.url, "s3://BUCKET[/PREFIX]")->required()->check(s3_url_check());
    cmd->add_option("dir", a.dir, "Archive folder (created if missing)")->required();
  }
  add_s3_options(cmd, a.s3, false);
  cmd->add_flag("--json", a.json, "Print the summary as JSON on stdout");
  cmd->add_flag("--no-progress", a.s3.no_progress, "Never show the progress line");
  cmd->add_flag("--progress", a.force_progress, "Show the progress line even when stderr is not a terminal");
  return cmd;
}

}  // namespace

CommandRunner register_s3(CLI::App& app) {
  auto push_args = std::make_shared<S3CommandArgs>();
  auto pull_args = std::make_shared<S3CommandArgs>();
  CLI::App* s3 = app.add_subcommand("s3", "Copy archives to and from S3 or an S3-compatible store");
  s3->require_subcommand(1);
  CLI::App* push = add_transfer(s3, "push", "Upload an archive folder to s3://BUCKET[/PREFIX]", *push_args, true);
  push->description(
      "Upload DIR's day files, a consistent snapshot of index.db (SQLite backup API) and proton-beam.log\n"
      "to s3://BUCKET[/PREFIX]/<file name>. Objects already identical (size and sha256) are skipped, so a\n"
      "rerun uploads only what changed or is missing; files above --s3-part-size go multipart, and an\n"
      "interrupted multipart upload is resumed by the next run.");
  CLI::App* pull = add_transfer(s3, "pull", "Download an archive from s3://BUCKET[/PREFIX] into DIR", *pull_args, false);
  pull->description(
      "Download the day files, index.db and proton-beam.log under s3://BUCKET[/PREFIX] into DIR, e.g. to\n"
      "merge it. Files already identical are skipped; each download streams into a hidden partial file\n"
      "(resumed by the next run after an interruption), is checked against the object's sha256, and is\n"
      "then renamed into place. Local files that differ from their object are replaced.");
  return [=] {
    if (push->parsed()) return run(*push_args, SyncDirection::push);
    if (pull->parsed()) return run(*pull_args, SyncDirection::pull);
    return static_cast<int>(kExitUsage);
  };
}

}  // namespace pb::cli
