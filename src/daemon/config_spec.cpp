#include "daemon/config_spec.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <fmt/format.h>

#include "daemon/config_values.hpp"
#include "s3/part_size.hpp"
#include "s3/s3_location.hpp"

namespace pb::daemon {
namespace {

using Apply = decltype(OptionSpec::apply);
using Show = decltype(OptionSpec::show);

template <typename T>
OptionSpec integer(std::string key, std::string cli, std::string help, T DaemonConfig::*field, std::int64_t min,
                   std::int64_t max, bool advanced = false) {
  Apply apply = [field, min, max](DaemonConfig& c, const std::string& v) -> std::optional<std::string> {
    std::int64_t n = 0;
    if (auto err = parse_int(v, min, max, n)) return err;
    c.*field = static_cast<T>(n);
    return std::nullopt;
  };
  Show show = [field](const DaemonConfig& c) { return fmt::format("{}", c.*field); };
  return {std::move(key), OptKind::text, std::move(cli), std::move(help), advanced, apply, show};
}

OptionSpec boolean(std::string key, OptKind kind, std::string cli, std::string help, bool DaemonConfig::*field,
                   bool advanced = false) {
  Apply apply = [field](DaemonConfig& c, const std::string& v) { return parse_bool(v, c.*field); };
  Show show = [field](const DaemonConfig& c) { return std::string(c.*field ? "true" : "false"); };
  return {std::move(key), kind, std::move(cli), std::move(help), advanced, apply, show};
}

OptionSpec text(std::string key, std::string cli, std::string help, std::string DaemonConfig::*field,
                bool advanced = false) {
  Apply apply = [field](DaemonConfig& c, const std::string& v) -> std::optional<std::string> {
    c.*field = v;
    return std::nullopt;
  };
  Show show = [field](const DaemonConfig& c) { return toml_string(c.*field); };
  return {std::move(key), OptKind::text, std::move(cli), std::move(help), advanced, apply, show};
}

OptionSpec seconds(std::string key, std::string cli, std::string help, double DaemonConfig::*field,
                   bool advanced = false) {
  Apply apply = [field](DaemonConfig& c, const std::string& v) { return parse_seconds(v, c.*field); };
  Show show = [field](const DaemonConfig& c) { return fmt::format("{}", c.*field); };
  return {std::move(key), OptKind::text, std::move(cli), std::move(help), advanced, apply, show};
}

std::optional<std::string> check_s3_url(const std::string& url) {
  if (url.empty()) return std::nullopt;  // no pushes
  try {
    s3::parse_s3_url(url);
    return std::nullopt;
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
}

std::optional<std::string> check_http_url(const std::string& url) {
  if (url.empty() || url.starts_with("http://") || url.starts_with("https://")) return std::nullopt;
  return fmt::format("'{}' is not an http:// or https:// URL", url);
}

// A URL-valued option (empty: unset) checked by `check`. S3 credentials come from the AWS environment or
// profile files (as for `proton-beam s3 push`), never a URL: one carrying userinfo is refused without
// echoing it, so no secret reaches a message or --print-config.
OptionSpec url_text(std::string key, std::string cli, std::string help, std::string DaemonConfig::*field,
                    std::optional<std::string> (*check)(const std::string&)) {
  Apply apply = [field, check](DaemonConfig& c, const std::string& v) -> std::optional<std::string> {
    if (v.find('@') != std::string::npos)
      return "credentials do not belong in the URL (value not shown); set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
             "or an AWS profile";
    if (auto err = check(v)) return err;
    c.*field = v;
    return std::nullopt;
  };
  Show show = [field](const DaemonConfig& c) { return toml_string(c.*field); };
  return {std::move(key), OptKind::text, std::move(cli), std::move(help), false, apply, show};
}

std::vector<OptionSpec> build() {
  std::vector<OptionSpec> s;
  s.push_back({"output_dir", OptKind::text, "-o,--output-dir", "Archive folder (day files + index.db)", false,
               [](DaemonConfig& c, const std::string& v) -> std::optional<std::string> {
                 if (v.empty()) return "must not be empty";
                 c.output_dir = v;
                 return std::nullopt;
               },
               [](const DaemonConfig& c) { return toml_string(c.output_dir.string()); }});
  s.push_back({"relays", OptKind::list, "--relay", "Relay URL (ws:// or wss://); repeatable", false,
               [](DaemonConfig& c, const std::string& v) { return parse_relays(v, c.relays); },
               [](const DaemonConfig& c) { return toml_list(c.relays, true); }});
  s.push_back(boolean("no_default_relays", OptKind::flag, "--no-default-relays",
                      "Do not add the built-in relay pool to the configured relays", &DaemonConfig::no_default_relays));
  s.push_back({"kinds", OptKind::list, "--kinds", "Subscribe to these kinds only (comma-separated)", false,
               [](DaemonConfig& c, const std::string& v) { return parse_kinds(v, c.kinds); },
               [](const DaemonConfig& c) {
                 std::vector<std::string> k;
                 for (auto x : c.kinds) k.push_back(std::to_string(x));
                 return toml_list(k, false);
               }});
  s.push_back({"authors", OptKind::list, "--authors", "Subscribe to these authors only (hex pubkeys, comma-separated)",
               false, [](DaemonConfig& c, const std::string& v) { return parse_authors(v, c.authors); },
               [](const DaemonConfig& c) { return toml_list(c.authors, true); }});
  s.push_back(integer("batch_size", "--batch-size", "Commit after this many stored events (under a flood: about once a second, up to 64x)", &DaemonConfig::batch_size, 1, 1'000'000));
  s.push_back(seconds("batch_interval", "--batch-interval", "Commit at least every SECONDS (events pending)",
                      &DaemonConfig::batch_interval));
  s.push_back(boolean("discovery", OptKind::flag, "--discovery,!--no-discovery",
                      "Find more relays from kind-10002 lists and e/p/a relay hints of stored events",
                      &DaemonConfig::discovery));
  s.push_back(integer("max_relays", "--max-relays", "Most relays connected at once (discovered ones count)", &DaemonConfig::max_relays, 1, 100'000));
  s.push_back(boolean("allow_private_addresses", OptKind::flag, "--allow-private-addresses",
                      "Let discovered relays resolve to loopback/private/link-local addresses", &DaemonConfig::allow_private_addresses));
  s.push_back(seconds("discovery_interval", "--discovery-interval",
                      "Seconds between discovery rounds (new candidates, scores, rotation)", &DaemonConfig::discovery_interval));
  s.push_back(integer("discovery_connects_per_minute", "--discovery-connects-per-minute",
                      "New discovered relays started per minute, at most", &DaemonConfig::discovery_connects_per_minute, 1, 10'000, true));
  s.push_back({"listen", OptKind::text, "--listen", "HOST:PORT of the metrics/health HTTP server (port 0: any)", false,
               [](DaemonConfig& c, const std::string& v) -> std::optional<std::string> {
                 if (auto err = parse_listen(v)) return err;
                 c.listen = v;
                 return std::nullopt;
               },
               [](const DaemonConfig& c) { return toml_string(c.listen); }});
  s.push_back(boolean("validate_signatures", OptKind::text, "--validate-signatures", "Verify BIP-340 signatures (BOOL)",
                      &DaemonConfig::validate_signatures));
  s.push_back(integer("compression_level", "--compression-level", "gzip level of day files, 0-9", &DaemonConfig::compression_level, 0, 9));
  s.push_back(url_text("s3_output", "--s3-output",
                       "Push the changed day files and an index snapshot to s3://BUCKET[/PREFIX] at start, every --s3-interval "
                       "and at shutdown (credentials: AWS environment or profile)",
                       &DaemonConfig::s3_output, check_s3_url));
  s.push_back(url_text("s3_endpoint", "--s3-endpoint",
                       "S3-compatible endpoint http[s]://HOST[:PORT] (path-style); default AWS_ENDPOINT_URL_S3, "
                       "AWS_ENDPOINT_URL, the profile's, else AWS",
                       &DaemonConfig::s3_endpoint, check_http_url));
  s.push_back(seconds("s3_interval", "--s3-interval", "Seconds between S3 pushes", &DaemonConfig::s3_interval));
  s.push_back(seconds("s3_shutdown_timeout", "--s3-shutdown-timeout",
                      "Seconds the final S3 push at SIGTERM may take before it is cancelled", &DaemonConfig::s3_shutdown_timeout));
  s.push_back(boolean("verbose", OptKind::flag, "-v,--verbose", "Log connections and rejections on stderr too", &DaemonConfig::verbose));
  s.push_back(text("ca_file", "--ca-file", "PEM CA bundle trusted for wss (in addition to nothing: replaces the system store)", &DaemonConfig::ca_file, true));
  s.push_back(integer("overlap_seconds", "--overlap-seconds", "REQ since = cursor - this", &DaemonConfig::overlap_seconds, 0, 365LL * 86400, true));
  s.push_back({"backfill_since", OptKind::text, "--backfill-since", "A relay without a cursor: fetch its history from TS on, paged (default: now - overlap)", true,
               [](DaemonConfig& c, const std::string& v) -> std::optional<std::string> {
                 std::int64_t ts = 0;
                 if (auto err = parse_int(v, 0, INT64_MAX / 2, ts)) return err;
                 c.backfill_since = ts;
                 return std::nullopt;
               },
               [](const DaemonConfig& c) { return c.backfill_since ? std::to_string(*c.backfill_since) : std::string(); }});
  s.push_back(integer("page_size", "--page-size", "History REQs ask limit=N; a full answer is paged back with until", &DaemonConfig::page_size, 1, 100'000, true));
  s.push_back(integer("reconnect_min_ms", "--reconnect-min-ms", "First reconnect delay", &DaemonConfig::reconnect_min_ms, 1, 86'400'000, true));
  s.push_back(integer("reconnect_max_ms", "--reconnect-max-ms", "Largest reconnect delay", &DaemonConfig::reconnect_max_ms, 1, 86'400'000, true));
  s.push_back(integer("stable_after_ms", "--stable-after-ms", "Open this long: the backoff resets", &DaemonConfig::stable_after_ms, 0, 86'400'000, true));
  s.push_back(integer("connect_timeout_ms", "--connect-timeout-ms", "TCP+TLS+WebSocket handshake deadline", &DaemonConfig::connect_timeout_ms, 1, 600'000, true));
  s.push_back(integer("ping_interval_ms", "--ping-interval-ms", "WebSocket ping interval (0: none)", &DaemonConfig::ping_interval_ms, 0, 3'600'000, true));
  s.push_back(integer("pong_timeout_ms", "--pong-timeout-ms", "Silence after a ping that drops the connection", &DaemonConfig::pong_timeout_ms, 1, 3'600'000, true));
  s.push_back(integer("max_message_bytes", "--max-message-bytes", "Largest relay message accepted (a bigger one is skipped and counted)", &DaemonConfig::max_message_bytes, 1024, 1LL << 30, true));
  s.push_back(integer("workers", "--workers", "Signature-checking threads (0: all cores)", &DaemonConfig::workers, 0, 256, true));
  s.push_back(integer("queue_events", "--queue-events", "Events held by each of the two queues (relays -> workers -> writer)", &DaemonConfig::queue_events, 16, 1'000'000, true));
  s.push_back(integer("commit_gap_ms", "--commit-gap-ms", "Under a flood, commit at most this often (0: whenever the writer catches up)", &DaemonConfig::commit_gap_ms, 0, 3'600'000, true));
  s.push_back(integer("queue_mib", "--queue-mib", "MiB held by each of the two queues (whichever bound is reached first)", &DaemonConfig::queue_mib, 1, 65'536, true));
  s.push_back(text("ready_file", "--ready-file", "Write the HTTP port here once running (tests)", &DaemonConfig::ready_file, true));
  s.push_back(boolean("fsync", OptKind::text, "--fsync", "fdatasync day files before each commit (BOOL)", &DaemonConfig::fsync, true));
  s.push_back(boolean("compaction", OptKind::text, "--compaction", "Rewrite finished days' small gzip members (BOOL)",
                      &DaemonConfig::compaction, true));
  s.push_back(integer("compact_grace", "--compact-grace", "Seconds after a UTC day ends before it is compacted",
                      &DaemonConfig::compact_grace, 0, 365LL * 86400, true));
  s.push_back(boolean("compact_sort_by_time", OptKind::text, "--compact-sort-by-time",
                      "Also rewrite each finished day with its records in time order, for serve (BOOL)",
                      &DaemonConfig::compact_sort_by_time, true));
  s.push_back({"s3_part_size", OptKind::text, "--s3-part-size",
               "S3 multipart part size (K/M/G suffix, 5M to 5G); larger files go up in parts", true,
               [](DaemonConfig& c, const std::string& v) -> std::optional<std::string> {
                 try {
                   s3::parse_part_size(v);
                 } catch (const std::runtime_error& e) {
                   return e.what();
                 }
                 c.s3_part_size = v;
                 return std::nullopt;
               },
               [](const DaemonConfig& c) { return toml_string(c.s3_part_size); }});
  s.push_back(integer("s3_jobs", "--s3-jobs", "Parts of one file in flight during an S3 multipart upload",
                      &DaemonConfig::s3_jobs, 1, 64, true));
  s.push_back(integer("s3_max_attempts", "--s3-max-attempts", "Attempts per S3 request before a push gives up (retried next interval)",
                      &DaemonConfig::s3_max_attempts, 1, 100, true));

  return s;
}

}  // namespace

const std::vector<OptionSpec>& option_specs() {
  static const std::vector<OptionSpec> specs = build();  // immutable after first use
  return specs;
}

std::string env_name(const std::string& key) {
  std::string out = "PROTON_BEAM_";
  for (char c : key) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace pb::daemon
