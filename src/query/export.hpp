// Reading events back out of an archive (`proton-beam export`), in two orders:
//
//  - file order (no filter): the day files the index knows, by day, and the records of each in file order,
//    i.e. chronological by day and input order within a day. Every file is read sequentially, once.
//  - index order (a filter): the rows ArchiveIndex::query returns (newest created_at first, ties by id),
//    fetched in pages of `chunk_rows`. Only the gzip members that hold a matching event are decompressed,
//    each at most once per page, and a member is abandoned as soon as its wanted events are found.
//
// Both read each day file only up to its committed length (the `files` table), so the uncommitted tail a
// running writer may be appending is never exported. Damage does not stop an export: it is counted and
// described in ExportCounters::problems, and the export goes on with the next member or file. File order
// passes on a member's events only after its gzip CRC checked out; index order stops inflating a member
// at its last wanted record, before the CRC (every event is still checked by the protobuf decoder, and
// its id against the index; `proton-beam verify` checks every CRC).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "archive/committed_files.hpp"
#include "archive/index.hpp"
#include "nostr/event.hpp"

namespace pb {

struct ExportCounters {
  std::uint64_t events = 0;           // events handed to the sink
  std::uint64_t index_rows = 0;       // index rows matched (index order only)
  std::uint64_t members_decoded = 0;  // gzip members opened to find indexed events (index order only)
  std::uint64_t records_read = 0;     // records read from day files (matching or not)
  std::uint64_t files_read = 0;       // day files opened
  std::uint64_t bytes_total = 0;      // committed compressed bytes to read (file order only)
  std::uint64_t bytes_done = 0;       // compressed position reached, at member granularity (file order only)
  std::uint64_t problem_count = 0;    // damaged records/members/files, index rows not found in their member
  std::vector<std::string> problems;  // the first kMaxProblemMessages of them, human-readable
};

struct ExportOptions {
  // Index rows handled per page (index order). Bounds the events held in memory at once, at the price of
  // decompressing a member once per page that needs it.
  std::size_t chunk_rows = 16384;
  // Called from the exporting thread every few thousand events and after each member; may be empty.
  std::function<void(const ExportCounters&)> on_progress;
};

// Receives each event in order; returns false to stop the export (e.g. a limit was reached).
using EventSink = std::function<bool(const Event&)>;

// True when `q` constrains which events match (ids, authors, kinds, since or until); a limit alone does not.
bool has_filter(const IndexQuery& q);

// Every committed event of the archive in `dir`, in file order. Throws std::runtime_error when the archive
// or its index cannot be opened.
ExportCounters export_file_order(const std::filesystem::path& dir, const EventSink& sink,
                                 const ExportOptions& options = {});

// The events matching `q` (including its limit), in the index's order. Throws std::runtime_error when the
// archive or its index cannot be opened or queried.
ExportCounters export_matching(const std::filesystem::path& dir, const IndexQuery& q, const EventSink& sink,
                               const ExportOptions& options = {});

}  // namespace pb
