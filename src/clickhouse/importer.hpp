// proton-beam-clickhouse-import's engine: reads day files, range-checks and RowBinary-encodes events on
// the calling thread, and hands batches through a bounded queue to sender threads, each with its own
// HTTP connection, which gzip them and insert them synchronously with retries. Acknowledged batches
// advance the per-file checkpoint in reading order, so a rerun resumes after the last acknowledged
// prefix; anything re-sent after a crash or an ambiguous retry is collapsed by the table's
// ReplacingMergeTree (ORDER BY id), so no event is lost and none stays duplicated.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "clickhouse/http_client.hpp"

namespace pb::ch {

struct ImportOptions {
  std::vector<std::string> inputs;  // day files, archive folders, glob patterns
  Endpoint endpoint;
  std::string table = "events";
  std::size_t batch_size = 5000;     // events per INSERT
  unsigned parallel = 3;             // batches in flight (sender threads)
  unsigned retries = 8;              // attempts after the first, for transient failures
  std::chrono::milliseconds retry_base{250};  // first backoff; doubles per attempt, capped at 15 s
  int compression_level = 1;         // gzip level of request bodies; 0 sends them uncompressed
  bool dry_run = false;              // read, check and encode; send nothing
  bool skip_test = false;            // no connection test or column probe; assume clickhouse/schema.sql
  std::optional<std::filesystem::path> checkpoint;  // nullopt: no checkpoint
  bool restart = false;              // ignore (and overwrite) the checkpoint's positions for these inputs
  bool verbose = false;              // log every rejected event
};

struct ImportSummary {
  std::uint64_t files = 0;           // day files after expansion
  std::uint64_t files_skipped = 0;   // already fully imported according to the checkpoint
  std::uint64_t files_resumed = 0;   // started from a checkpoint position
  std::uint64_t records_read = 0;    // records read in this run (after resume points)
  std::uint64_t events_inserted = 0; // acknowledged by the server (dry run: would have been sent)
  std::map<std::string, std::uint64_t> rejected;  // reason -> count (never sent)
  std::uint64_t batches = 0;
  std::uint64_t retries = 0;
  std::uint64_t bytes_encoded = 0;   // RowBinary bytes
  std::uint64_t bytes_sent = 0;      // request bytes after compression
  std::vector<std::string> damaged;  // "file: offset: message" for inputs with damage
  std::string server_version;
  double elapsed_s = 0;

  std::uint64_t rejected_total() const;
};

// Called about twice a second from the reading thread with a snapshot of the summary.
using ProgressFn = std::function<void(const ImportSummary&)>;

// Runs the import. Throws ClickHouseError for server/connection failures (after retries), with the
// server's message, and std::runtime_error for unreadable inputs; the checkpoint then holds what was
// acknowledged so far.
ImportSummary run_import(const ImportOptions& options, const ProgressFn& progress = {});

}  // namespace pb::ch
