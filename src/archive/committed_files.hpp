// Reading what a writer has committed: the index opened read-only, the day files it lists with their
// committed lengths, and the records of a day file up to that length, a member at a time once its CRC
// checked out. Safe beside a running writer (its uncommitted tail is never read).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "archive/index.hpp"

namespace pb {

// How many problem descriptions a reader of the archive keeps (counts are always complete).
inline constexpr std::size_t kMaxProblemMessages = 20;

// Opens the index of the archive in `dir` read-only (safe beside a running writer). Throws
// std::runtime_error naming the problem when `dir` is missing or holds no index.db.
ArchiveIndex open_archive_index(const std::filesystem::path& dir);

// The day files the index knows (its `files` table), oldest day first, with their committed lengths.
// Rows whose name is not a day-file name are skipped (they could only come from a hand-edited index, and
// are never joined to a path).
struct CommittedDayFile {
  std::string name;
  std::int64_t day = 0;
  std::uint64_t committed_bytes = 0;
  std::uint64_t events = 0;
};
std::vector<CommittedDayFile> committed_day_files(ArchiveIndex& index);

// Reads the records of one day file that lie in members starting before `committed_bytes`, calling
// on_record(record bytes, member offset) for each until it returns false. A member's records are passed
// on only once the member has been read to its end and its gzip CRC checked, so nothing from a damaged
// member is ever passed on. Returns a description of damage met before the committed length (or of a
// file that cannot be opened), nullopt when clean.
std::optional<std::string> read_committed_records(
    const std::filesystem::path& path, std::uint64_t committed_bytes,
    const std::function<bool(std::string_view record, std::uint64_t member_offset)>& on_record);

}  // namespace pb
