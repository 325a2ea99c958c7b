// `proton-beam convert`: JSONL (plain, .gz, .zst, stdin) -> validated, deduplicated day files + index.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/pipeline_command.hpp"

namespace pb::cli {

CommandRunner register_convert(CLI::App& app) {
  auto args = std::make_shared<PipelineArgs>();
  CLI::App* cmd = app.add_subcommand("convert", "Convert JSONL Nostr events into validated, deduplicated day files");
  cmd->description(
      "Convert JSONL Nostr events (one event per line) into validated, deduplicated protobuf day files\n"
      "(YYYY_MM_DD.pb.gz by UTC day of created_at) with a SQLite index (index.db) and a log of every\n"
      "rejected line (proton-beam.log), all in the output directory. Inputs may be plain, gzip or zstd\n"
      "compressed (detected from their first bytes), or '-' for stdin. Events already in the archive are\n"
      "counted as duplicates, so re-running is safe, and a killed run is completed by running it again.");
  cmd->footer(kExitCodeHelp);
  ConvertOptions& opt = args->opt;
  cmd->add_option("inputs", opt.inputs, "JSONL files (.jsonl, .gz, .zst) or '-' for stdin")->required();
  cmd->add_option("-o,--output-dir", opt.output_dir, "Archive directory (created if missing)")->capture_default_str();
  cmd->add_option("-b,--batch-size", opt.batch_size, "Lines per work unit handed to a worker")
      ->capture_default_str()->check(CLI::Range(1, 1'000'000));
  cmd->add_flag("--validate-signatures{true}", opt.validation.check_signatures,
                "Verify BIP-340 signatures (default true; --validate-signatures=false to skip)")
      ->capture_default_str();
  cmd->add_flag("--validate-event-ids{true}", opt.validation.check_ids,
                "Check each id against the sha256 of the canonical form (default true)")
      ->capture_default_str();
  cmd->add_flag("--filter-invalid-kinds,!--no-filter-kinds", opt.filter_invalid_kinds,
                "Drop lines whose top-level kind is above 65535 before parsing; counted as 'filtered' (default on)");
  add_pipeline_options(cmd, *args);
  return [args] { return run_pipeline(*args, "convert").exit_code; };
}

}  // namespace pb::cli
