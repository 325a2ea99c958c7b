// `index rebuild`: a fresh index.db from the day files alone, built beside the old one and renamed over
// it, so a crash leaves the old index (or none), never a half one.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pb {

struct RebuildOptions {
  std::filesystem::path dir = "pb_data";
  std::filesystem::path index_path;  // empty: <dir>/index.db
  unsigned threads = 0;              // decoding threads; 0 = hardware concurrency
  // Tests: the tag thread fails after this many files' tag rows (the error path must not hang or touch
  // the old index). Set from PB_FAULT_REBUILD_TAGS_AFTER by the CLI.
  std::optional<std::uint64_t> fail_tags_after;
};

struct RebuildStats {
  std::uint64_t files = 0;
  std::uint64_t records = 0;       // records read from day files
  std::uint64_t events = 0;        // rows in the new index
  std::uint64_t duplicates = 0;    // records whose id an earlier file (by name) already holds
  std::uint64_t undecodable = 0;   // records that are not a valid ProtoEvent (not indexed)
  std::uint64_t bytes = 0;         // day-file bytes read
  std::vector<std::string> damaged;  // "<file>: damaged at byte N: why" (records before it are indexed)
  double elapsed_s = 0;
};

// Progress: records so far, bytes so far, total bytes.
using RebuildProgress = std::function<void(std::uint64_t records, std::uint64_t bytes, std::uint64_t total_bytes)>;

// Throws std::runtime_error when the archive cannot be locked or the index cannot be written.
RebuildStats rebuild_index(const RebuildOptions& options, const RebuildProgress& progress = {});

}  // namespace pb
