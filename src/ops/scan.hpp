// Internal to archive_verify.cpp / archive_repair.cpp: what a verify pass learns about each day file,
// in the detail repair needs to rewrite it. Not a public API.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "archive/index.hpp"
#include "archive/repair_journal.hpp"
#include "ops/verify.hpp"
#include "archive/writer.hpp"
#include "archive/day_file_reader.hpp"

namespace pb::scan {

inline constexpr const char* kRedoKey = kRepairRedoKey;  // meta key: renames still to do (archive/repair_journal.hpp)

// A record singled out for repair, with the fields its index row must carry.
struct RecordRef {
  std::uint64_t number = 0;  // 1-based, in reading order
  std::uint64_t member = 0;  // compressed offset of the gzip member it starts in
  Id32 id{};
  Id32 pubkey{};
  std::int64_t created_at = 0;
  std::int32_t kind = 0;
  bool has_row = false;      // some row carries this id (possibly a wrong one)
  std::optional<IndexRow> row;  // misplaced records: their row, if any
};

// A gzip member that holds the start of at least one record.
struct Member {
  std::uint64_t offset = 0;
  std::uint64_t first_record = 0;
  std::uint64_t records = 0;
  std::uint64_t kept = 0;  // valid, correctly placed first copies
};

// A stretch of the file read by one reader: from `start` (0, or a member found again past damage).
struct Segment {
  std::uint64_t start = 0;
  std::uint64_t first_record = 1;
  std::uint64_t records = 0;
  std::optional<ReadDamage> damage;
  // When damaged: [start, cut) is whole members; records in members at or past `cut` (the tail) are
  // re-encoded by repair; bytes [cut, lost_end) are dropped (lost_end: next segment or end of file).
  std::uint64_t cut = 0;
  std::uint64_t lost_end = 0;
  std::uint64_t tail_records = 0;  // records read from the tail
  std::uint64_t salvageable = 0;   // ... of which valid: re-appended by repair
};

struct FileScan {
  std::string name;
  std::int64_t day = 0;
  std::uint64_t size = 0;
  std::optional<std::string> unreadable;  // why the file could not be read at all
  std::vector<Segment> segments;
  std::vector<Member> members;
  std::uint64_t records = 0;
  std::uint64_t kept = 0;          // valid, placed, first copies: what stays in this file
  std::uint64_t kept_digest = 0;   // order-independent digest of their ids (id_digest)
  std::uint64_t salvageable = 0;
  std::vector<std::uint64_t> drop;     // record numbers repair removes, ascending
  std::vector<RecordRef> misplaced;    // valid records of another day (all in `drop`)
  std::vector<RecordRef> row_fix;      // kept records whose row is missing or wrong
  std::vector<IndexRow> unresolved_rows;  // rows created on this day that no kept record matched exactly
  std::array<std::uint64_t, kProblemKindCount> counts{};
  std::vector<Problem> problems;       // capped per kind

  bool damaged() const {
    for (const auto& s : segments)
      if (s.damage) return true;
    return false;
  }
};

// A misplaced valid record chosen as the copy to keep: repair moves it to its day's file.
struct Move {
  std::size_t source = 0;  // index into ArchiveScan::files
  RecordRef ref;
};

struct ArchiveScan {
  VerifyReport report;
  std::vector<FileScan> files;               // by name
  std::vector<Move> moves;
  std::vector<Id32> orphan_rows;              // rows to delete
  std::vector<FileRow> file_rows;             // the files table as read
  std::optional<WriterJournal> journal;       // uncommitted writer transaction, if any
  std::uint64_t commit_seq = 0;
  bool index_missing = false;
};

// Order-independent digest of a set of ids (sum of mixed words), to check rewritten files hold exactly
// the records they should.
std::uint64_t id_digest(const Id32& id);

// The whole verify pass. `lock` false when the caller already holds the writer lock.
ArchiveScan scan_archive(const std::filesystem::path& dir, const VerifyOptions& options, bool lock,
                         const std::function<void(const VerifyProgress&)>& progress);

}  // namespace pb::scan
