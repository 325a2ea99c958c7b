// proton-beam-daemon's configuration: one table of options (config_spec.cpp), each settable from the
// command line, a PROTON_BEAM_<OPTION> environment variable and the TOML file given by --config.
// Precedence: command line > environment > file > defaults. A list given by a higher source replaces the
// lower one's (it is not merged).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pb::daemon {

struct DaemonConfig {
  std::string config_file;                   // --config (empty: none)
  std::filesystem::path output_dir = "./nostr_events";
  std::vector<std::string> relays;           // operator relays, as given
  bool no_default_relays = false;
  std::vector<std::int32_t> kinds;           // subscription filter (empty: any)
  std::vector<std::string> authors;          // 64-hex pubkeys, lower case (empty: any)
  std::size_t batch_size = 500;
  double batch_interval = 30;                // seconds
  bool discovery = true;
  std::size_t max_relays = 50;
  bool allow_private_addresses = false;
  double discovery_interval = 300;           // seconds between discovery rounds
  std::size_t discovery_connects_per_minute = 10;  // new discovered relays started per minute
  std::string listen = "127.0.0.1:9477";     // HOST:PORT (port 0: any free port)
  bool validate_signatures = true;
  int compression_level = 6;
  std::string s3_output;                     // s3://BUCKET[/PREFIX] (empty: no pushes)
  std::string s3_endpoint;                   // S3-compatible endpoint (empty: AWS_ENDPOINT_URL..., else AWS)
  double s3_interval = 3600;                 // seconds between pushes
  double s3_shutdown_timeout = 10;           // seconds the final push at SIGTERM may take
  bool verbose = false;
  // Advanced (hidden from the short help; documented in docs/daemon.md).
  std::string ca_file;                       // extra CA bundle for wss (tests: a self-signed cert)
  std::int64_t overlap_seconds = 900;        // REQ since = cursor - overlap
  std::optional<std::int64_t> backfill_since;  // first REQ of a relay without a cursor: since = this
  std::size_t page_size = 500;               // history REQs ask limit = this; a full answer is paged with until
  std::int64_t reconnect_min_ms = 1000;
  std::int64_t reconnect_max_ms = 300'000;
  std::int64_t stable_after_ms = 60'000;     // an open connection this old resets the backoff
  std::int64_t connect_timeout_ms = 10'000;
  std::int64_t ping_interval_ms = 30'000;
  std::int64_t pong_timeout_ms = 10'000;
  std::size_t max_message_bytes = 1 << 20;
  unsigned workers = 0;                      // signature workers (0: all cores)
  std::size_t queue_events = 16384;          // bound on events in each queue between the relays and the writer
  std::size_t queue_mib = 64;                // and on their bytes
  std::int64_t commit_gap_ms = 1000;         // group commit: a caught-up writer's commits at most this often
  std::string ready_file;                    // written with the HTTP port once everything runs
  bool fsync = true;
  bool compaction = true;                    // compact finished days' small members (docs/daemon.md)
  std::int64_t compact_grace = 3600;         // seconds after a UTC day ends before it is compacted
  bool compact_sort_by_time = false;          // ... and its records put in time order (for serve)
  std::string s3_part_size = "64M";          // multipart part size (s3/part_size.hpp)
  int s3_jobs = 4;                           // parts of one file in flight
  int s3_max_attempts = 6;                   // attempts per S3 request
};

// The default relay pool (used unless no_default_relays).
const std::vector<std::string>& default_relays();

// Operator relays plus the defaults, without repeats, in order.
std::vector<std::string> effective_relays(const DaemonConfig& cfg);

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

struct LoadResult {
  DaemonConfig config;
  bool print_config = false;
  bool exit_now = false;    // --help / --version handled: print `output`, exit with `exit_code`
  int exit_code = 0;
  std::string output;
  std::string error;        // non-empty: a bad option/value (names the key; the file line when from a file)
};

// args excludes argv[0]. Never throws.
LoadResult load_config(const std::vector<std::string>& args, const EnvLookup& env);

// The effective configuration as TOML. It holds no secrets: S3 credentials come from the AWS environment
// or profile files, and a URL carrying any is refused.
std::string format_config(const DaemonConfig& cfg);

}  // namespace pb::daemon
