// Figures about an archive (`proton-beam stats`): what the index says (events, kinds, authors, days),
// what is on disk (day-file and index bytes), and, from an optional full scan of the day files, how big
// the events are as compact NIP-01 JSON, hence the compression ratio.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "archive/index.hpp"

namespace pb {

struct ArchiveStatsOptions {
  bool scan = true;      // decode every committed record (the JSON size and compression ratio need it)
  unsigned threads = 0;  // scan threads, one day file each at a time; 0 = all cores
  // Called from the calling thread about every 100 ms during the scan with (compressed bytes scanned,
  // compressed bytes to scan); may be empty.
  std::function<void(std::uint64_t done, std::uint64_t total)> on_progress;
};

struct ArchiveStats {
  // From the index.
  std::uint64_t events = 0;                                        // rows in the index
  std::uint64_t day_files = 0;                                     // day files the index knows
  std::optional<std::int64_t> first_day, last_day;                 // their days (days since 1970-01-01)
  std::optional<std::pair<std::int64_t, std::int64_t>> created_at;  // oldest, newest created_at
  std::vector<ArchiveIndex::KindCount> kinds;                      // every kind, most events first
  std::uint64_t distinct_authors = 0;

  // From the file system.
  std::uint64_t day_file_bytes = 0;      // on-disk size of the day files the index knows
  std::uint64_t committed_bytes = 0;     // their committed lengths (equal unless a writer is mid-commit)
  std::uint64_t index_bytes = 0;         // index.db plus its -wal and -shm files
  std::uint64_t unindexed_day_files = 0;  // YYYY_MM_DD.pb.gz files in the folder the index does not know

  // From the scan (all zero when not scanned).
  bool scanned = false;
  std::uint64_t scanned_events = 0;  // records decoded (equals `events` in a healthy archive)
  std::uint64_t json_bytes = 0;      // sum of the compact NIP-01 JSON sizes, without newlines
  std::uint64_t proto_bytes = 0;     // sum of the uncompressed records (varint length + ProtoEvent)
  std::uint64_t problem_count = 0;   // damaged files / undecodable records met by the scan
  std::vector<std::string> problems;  // the first few, human-readable

  // JSON size over committed day-file bytes; 0 without a scan or without data.
  double compression_ratio() const {
    return scanned && committed_bytes > 0 ? static_cast<double>(json_bytes) / static_cast<double>(committed_bytes)
                                          : 0.0;
  }
};

// Throws std::runtime_error when `dir` is not an archive or its index cannot be read.
ArchiveStats collect_archive_stats(const std::filesystem::path& dir, const ArchiveStatsOptions& options = {});

}  // namespace pb
