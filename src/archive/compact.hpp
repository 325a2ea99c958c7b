// Compaction: rewriting a day file made of many small gzip members (a daemon commits every few hundred
// events, and each commit seals every open member) into members of the writer's normal size, records in
// their existing order (or, asked to, in time order). Design and crash safety: docs/archive-format.md, "Compaction".
//
// The new file is written beside the old one (.proton-beam-repair/<name>.new), synced and read back; one
// index transaction then moves every row to its new member offset, sets the file's new committed length
// and records the rename still to do under the repair redo key. The rename follows. A kill at any moment
// leaves the old file with the old rows (before that commit) or a redo that the next writer open, or
// `verify --repair`, completes (after it): the same machinery as repair (archive/repair_journal.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "archive/index.hpp"
#include "archive/writer.hpp"

namespace pb {

// When a day file is worth compacting. Sizes are compressed bytes, as the index knows them; a member of
// the writer's normal size holds member_bytes of records, ~40-50% of that compressed for typical events.
struct CompactPolicy {
  std::uint64_t min_members = 8;        // "more than a few members"
  std::uint64_t avg_member_divisor = 8;  // average compressed member below member_bytes / this
  std::int64_t grace_seconds = 3600;    // daemon: a day is compacted this long after it ended (UTC)
};

// A committed day file as its index rows describe it.
struct DayFileLayout {
  std::string file;
  std::uint64_t bytes = 0;    // committed length
  std::uint64_t events = 0;   // files-table count
  std::uint64_t rows = 0;     // index rows pointing at the file
  std::uint64_t members = 0;  // distinct member offsets among those rows
};

// Reads the rows of `file_name` (a created_at range scan of its day) and its files-table entry. Throws
// std::runtime_error when the file is not a day file the index knows.
DayFileLayout day_file_layout(ArchiveIndex& index, const std::string& file_name);

// True when the file has at least min_members members and their average is below member_bytes / divisor.
bool needs_compaction(const DayFileLayout& layout, const CompactPolicy& policy, std::size_t member_bytes);

struct CompactOptions {
  CompactPolicy policy;
  // Compact even when needs_compaction() says no (still skipped when the rewrite would not reduce the
  // number of members).
  bool force = false;
  // Also put the records in created_at order (ties by id), so a time-window query reads few members.
  // Compacts regardless of the policy unless the file is already in that order and would not shrink.
  // Holds the day's records in memory: a file with more than sort_max_bytes of records is skipped.
  bool sort_by_time = false;
  std::size_t sort_max_bytes = std::size_t{1} << 30;
  // Tests only: called at each named step ("writing", "prepared", "committed", "renamed", "done") so a
  // test can kill the process there (docs/archive-format.md lists what each leaves).
  std::function<void(std::string_view step)> crash_point;
};

// CompactResult::skipped of a sort_by_time compaction whose file needed neither.
inline constexpr const char* kAlreadyInTimeOrder = "already in time order";

struct CompactResult {
  std::string file;
  bool compacted = false;
  bool sorted = false;  // compacted with sort_by_time: the records are now in time order
  std::string skipped;  // why not, when !compacted
  bool failed = false;  // skipped because of an error before the point of no return (archive unchanged)
  std::uint64_t events = 0;
  std::uint64_t members_before = 0, members_after = 0;
  std::uint64_t bytes_before = 0, bytes_after = 0;
  double elapsed_s = 0;
};

// Compacts one day file through the writer that holds the archive (its lock, index connection, member
// size, compression level and fsync setting). The writer must be idle() (call right after commit()).
// A file that is damaged, or whose rows do not match its records one to one, is skipped with the reason
// ("run `proton-beam verify --repair`"). An error before the index commit (e.g. a full disk) is returned
// as failed (the archive is unchanged); one after it is thrown: the writer must then be closed, and the
// next open completes the swap.
CompactResult compact_day_file(ArchiveWriter& writer, const std::string& file_name, const CompactOptions& options);

// The day files in the index whose UTC day ended at least `grace_seconds` before `now_unix`, oldest
// first (the daemon's candidates; a day still being written is never compacted by it).
std::vector<FileRow> finished_day_files(ArchiveIndex& index, std::int64_t grace_seconds, std::int64_t now_unix);

}  // namespace pb
