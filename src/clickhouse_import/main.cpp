// proton-beam-clickhouse-import: loads archive day files into ClickHouse over its HTTP interface.
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "clickhouse/import_config.hpp"
#include "clickhouse/importer.hpp"
#include "clickhouse/summary_json.hpp"

namespace {

enum ExitCode : int { kOk = 0, kFailure = 1, kUsage = 2, kInputDamaged = 3 };

constexpr const char* kFooter =
    "Environment: CLICKHOUSE_HOST, CLICKHOUSE_PORT, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD, CLICKHOUSE_DATABASE,\n"
    "CLICKHOUSE_TABLE, CLICKHOUSE_SECURE. Precedence: options > environment > --config file > defaults.\n"
    "Exit status: 0 every event was inserted or rejected (rejections do not change it); 1 fatal error (server\n"
    "error after retries, unreadable input; the checkpoint keeps what was acknowledged); 2 bad options;\n"
    "3 completed, but an input was damaged (every event before the damage was imported).";

void write_file(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return;
  }
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + path);
}

std::string default_checkpoint(const pb::ch::ImportOptions& o) {
  std::string name = fmt::format(".proton-beam-clickhouse-{}-{}-{}-{}.checkpoint", o.endpoint.host,
                                 o.endpoint.port, o.endpoint.database, o.table);
  for (char& c : name)
    if (c == '/' || c == ':') c = '_';
  return name;
}

void print_summary(const pb::ch::ImportSummary& s, const pb::ch::ImportOptions& o) {
  const double rate = s.elapsed_s > 0 ? static_cast<double>(s.events_inserted) / s.elapsed_s : 0;
  fmt::print(stderr, "{}{} events {} {}.{} from {} files ({} already done, {} resumed) in {:.2f} s: {:.0f} events/s\n",
             o.dry_run ? "dry run: " : "", s.events_inserted, o.dry_run ? "would go into" : "inserted into",
             o.endpoint.database, o.table, s.files, s.files_skipped, s.files_resumed, s.elapsed_s, rate);
  fmt::print(stderr, "  records read {}, batches {}, retries {}, {:.1f} MB RowBinary sent as {:.1f} MB\n",
             s.records_read, s.batches, s.retries, s.bytes_encoded / 1e6, s.bytes_sent / 1e6);
  fmt::print(stderr, "  rejected {}{}\n", s.rejected_total(), s.rejected.empty() ? "" : ":");
  for (const auto& [reason, count] : s.rejected) fmt::print(stderr, "    {:<12} {}\n", reason, count);
  for (const auto& d : s.damaged) fmt::print(stderr, "  damaged input: {}\n", d);
}

}  // namespace

int main(int argc, char** argv) {
  pb::ch::ImportOptions o;
  CLI::App app{"Import Proton Beam archive day files (YYYY_MM_DD.pb.gz) into ClickHouse over HTTP in RowBinary,\n"
               "gzip-compressed, with synchronous inserts, retries, several batches in flight and a resumable\n"
               "checkpoint. Create the schema first: clickhouse/bootstrap.sh.",
               "proton-beam-clickhouse-import"};
  app.footer(kFooter);
  std::vector<std::string> inputs;
  std::string config_path, checkpoint, summary_json;
  std::vector<std::string> settings;
  bool no_checkpoint = false, progress = false, no_progress = false;
  long long timeout_s = 300;
  app.add_option("-i,--input,inputs", inputs, "Day files, archive folders or glob patterns (repeatable)");
  app.add_option("--config", config_path, "TOML config file (keys: the long option names)")->check(CLI::ExistingFile);
  auto* host = app.add_option("--host", o.endpoint.host, "ClickHouse host")->envname("CLICKHOUSE_HOST")->capture_default_str();
  auto* port = app.add_option("--port", o.endpoint.port, "HTTP(S) port")->envname("CLICKHOUSE_PORT")
                   ->check(CLI::Range(1, 65535))->capture_default_str();
  auto* user = app.add_option("--user", o.endpoint.user, "User")->envname("CLICKHOUSE_USER")->capture_default_str();
  auto* password = app.add_option("--password", o.endpoint.password, "Password")->envname("CLICKHOUSE_PASSWORD");
  auto* database = app.add_option("--database", o.endpoint.database, "Database")->envname("CLICKHOUSE_DATABASE")
                       ->capture_default_str();
  auto* table = app.add_option("--table", o.table, "Table (a MergeTree table or a Distributed table over shards)")
                    ->envname("CLICKHOUSE_TABLE")->capture_default_str();
  auto* secure = app.add_flag("--secure", o.endpoint.secure, "Use HTTPS")->envname("CLICKHOUSE_SECURE");
  auto* insecure = app.add_flag("--insecure", o.endpoint.insecure_tls, "With --secure: do not verify the certificate");
  auto* ca_file = app.add_option("--ca-file", o.endpoint.ca_file, "With --secure: PEM file of CA certificates to trust");
  auto* batch = app.add_option("-b,--batch-size", o.batch_size, "Events per INSERT")->check(CLI::Range(1, 10'000'000))
                    ->capture_default_str();
  auto* parallel = app.add_option("-j,--parallel", o.parallel, "Batches in flight (sender threads)")
                       ->check(CLI::Range(1, 64))->capture_default_str();
  auto* retries = app.add_option("--retries", o.retries, "Retries of a batch after transient failures (backoff doubles)")
                      ->check(CLI::Range(0, 100))->capture_default_str();
  auto* level = app.add_option("--compression-level", o.compression_level, "gzip level of request bodies (0 = none)")
                    ->check(CLI::Range(0, 9))->capture_default_str();
  auto* timeout = app.add_option("--timeout", timeout_s, "Seconds one INSERT may take")->check(CLI::Range(1, 86400))
                      ->capture_default_str();
  app.add_option("--setting", settings, "A server setting for the inserts, NAME=VALUE (repeatable), e.g. insert_distributed_sync=1");
  auto* ckpt = app.add_option("--checkpoint", checkpoint,
                              "Checkpoint file (default: .proton-beam-clickhouse-HOST-PORT-DB-TABLE.checkpoint here)");
  app.add_flag("--no-checkpoint", no_checkpoint, "Keep no checkpoint (a rerun starts over)");
  app.add_flag("--restart", o.restart, "Ignore the checkpoint's positions for these inputs and import them again");
  app.add_flag("--skip-test", o.skip_test, "Skip the connection test and column probe (assume clickhouse/schema.sql)");
  app.add_flag("--dry-run", o.dry_run, "Read, check and encode everything, send nothing");
  app.add_flag("-v,--verbose", o.verbose, "Log every rejected event");
  app.add_option("--summary-json", summary_json, "Write the machine-readable summary to FILE ('-' for stdout)");
  app.add_flag("--progress", progress, "Show the progress line even when stderr is not a terminal");
  app.add_flag("--no-progress", no_progress, "Never show the progress line");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kOk : kUsage;
  }

  try {
    if (!config_path.empty()) {
      const pb::ch::ImportConfigFile c = pb::ch::load_import_config(config_path);
      // A file value applies only where neither the command line nor the environment gave one.
      auto unset = [](const CLI::Option* opt) { return opt->count() == 0; };
      if (c.host && unset(host)) o.endpoint.host = *c.host;
      if (c.user && unset(user)) o.endpoint.user = *c.user;
      if (c.password && unset(password)) o.endpoint.password = *c.password;
      if (c.database && unset(database)) o.endpoint.database = *c.database;
      if (c.table && unset(table)) o.table = *c.table;
      if (c.checkpoint && unset(ckpt)) checkpoint = *c.checkpoint;
      if (c.ca_file && unset(ca_file)) o.endpoint.ca_file = *c.ca_file;
      if (c.port && unset(port)) o.endpoint.port = static_cast<int>(*c.port);
      if (c.batch_size && unset(batch)) o.batch_size = static_cast<std::size_t>(*c.batch_size);
      if (c.parallel && unset(parallel)) o.parallel = static_cast<unsigned>(*c.parallel);
      if (c.retries && unset(retries)) o.retries = static_cast<unsigned>(*c.retries);
      if (c.compression_level && unset(level)) o.compression_level = static_cast<int>(*c.compression_level);
      if (c.timeout && unset(timeout)) timeout_s = *c.timeout;
      if (c.secure && unset(secure)) o.endpoint.secure = *c.secure;
      if (c.insecure && unset(insecure)) o.endpoint.insecure_tls = *c.insecure;
      if (inputs.empty()) inputs = c.inputs;
      for (const auto& [k, v] : c.settings) o.endpoint.settings.emplace_back(k, v);
      if (o.batch_size < 1 || o.parallel < 1 || o.parallel > 64 || o.endpoint.port < 1 || o.endpoint.port > 65535 ||
          o.compression_level < 0 || o.compression_level > 9 || timeout_s < 1)
        throw CLI::ValidationError("--config", config_path + ": a value is out of range");
    }
    for (const std::string& s : settings) {
      const auto eq = s.find('=');
      if (eq == std::string::npos || eq == 0) throw CLI::ValidationError("--setting", "expected NAME=VALUE, got " + s);
      o.endpoint.settings.emplace_back(s.substr(0, eq), s.substr(eq + 1));
    }
    if (inputs.empty()) throw CLI::ValidationError("--input", "at least one input is required");
  } catch (const CLI::ValidationError& e) {
    fmt::print(stderr, "proton-beam-clickhouse-import: {}\n", e.what());
    return kUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "proton-beam-clickhouse-import: {}\n", e.what());
    return kUsage;
  }
  o.inputs = inputs;
  o.endpoint.timeout = std::chrono::seconds(timeout_s);
  if (!no_checkpoint) o.checkpoint = checkpoint.empty() ? default_checkpoint(o) : checkpoint;
  // Logs (retries, damage, -v rejections) go to stderr: stdout is for --summary-json -.
  spdlog::set_default_logger(spdlog::stderr_color_mt("proton-beam-clickhouse-import"));
  spdlog::set_pattern("%^%l%$: %v");
  spdlog::set_level(spdlog::level::info);

  const bool show_progress = !no_progress && (progress || ::isatty(STDERR_FILENO));
  std::size_t last_width = 0;
  auto on_progress = [&](const pb::ch::ImportSummary& s) {
    const std::string line = fmt::format("{} records read, {} events inserted, {} rejected, {:.0f} events/s, {} retries",
                                         s.records_read, s.events_inserted, s.rejected_total(),
                                         s.elapsed_s > 0 ? s.events_inserted / s.elapsed_s : 0.0, s.retries);
    fmt::print(stderr, "\r{:<{}}", line, last_width);
    last_width = line.size();
  };

  pb::ch::CurlGlobal curl;
  pb::ch::ImportSummary summary;
  std::string error;
  try {
    summary = pb::ch::run_import(o, show_progress ? pb::ch::ProgressFn(on_progress) : pb::ch::ProgressFn());
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (last_width > 0) fmt::print(stderr, "\r{:<{}}\r", "", last_width);
  if (!error.empty()) {
    fmt::print(stderr, "proton-beam-clickhouse-import: error: {}\n", error);
    if (!summary_json.empty()) {
      try {
        write_file(summary_json, pb::ch::summary_json(summary, "failed", error));
      } catch (const std::exception&) {
      }
    }
    return kFailure;
  }
  print_summary(summary, o);
  if (!summary_json.empty()) {
    try {
      write_file(summary_json, pb::ch::summary_json(summary, "ok", ""));
    } catch (const std::exception& e) {
      fmt::print(stderr, "proton-beam-clickhouse-import: error: {}\n", e.what());
      return kFailure;
    }
  }
  return summary.damaged.empty() ? kOk : kInputDamaged;
}
