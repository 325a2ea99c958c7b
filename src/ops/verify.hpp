// `proton-beam verify`: checks an archive's day files against themselves and against index.db, and
// (repair_archive) puts it back in a consistent state without ever dropping a valid event.
//
// Checks: gzip integrity and record framing of every day file, that every record decodes, sits in the
// day file of its created_at and carries the id of its content (and, optionally, a valid signature);
// duplicate ids; index rows without events, events without rows, rows pointing at the wrong file or
// member; the files table's committed lengths and event counts. Repair design and crash safety:
// docs/archive-format.md, "Verify and repair".
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "archive/index.hpp"
#include "nostr/event.hpp"

namespace pb {

enum class ProblemKind : std::uint8_t {
  interrupted_repair,   // a repair stopped after its index commit; the next repair or writer finishes it
  uncommitted_write,    // a writer's journal names a transaction the index never committed
  unreadable_file,      // a day file that cannot be opened or read
  damaged_file,         // gzip or record-framing damage (torn or corrupt bytes)
  undecodable_record,   // complete framing, but not a valid ProtoEvent
  invalid_id,           // the id is not the sha256 of the record's canonical form
  invalid_signature,    // the BIP-340 signature does not verify (--signatures, and always in damaged members)
  wrong_day,            // created_at falls on another day than the file's name
  duplicate_id,         // a second valid copy of an event
  missing_row,          // a valid event without an index row
  orphan_row,           // an index row whose event is not in the archive
  wrong_row,            // a row naming another file or member, or other fields than the event's
  files_table,          // files-table length or event count differs from the file, or a row is missing/extra
};
inline constexpr std::size_t kProblemKindCount = 13;

std::string_view problem_kind_name(ProblemKind k);  // e.g. "damaged_file"

// One problem, located as precisely as is known.
struct Problem {
  ProblemKind kind{};
  std::string file;                     // day file name; empty when the problem is not about one file
  std::optional<std::uint64_t> offset;  // compressed byte offset: the damage point, or the record's member
  std::optional<std::uint64_t> record;  // 1-based record number within the file (in reading order)
  std::optional<Id32> id;
  std::string message;
};

struct VerifyOptions {
  bool check_signatures = false;  // verify every BIP-340 signature (ids are always recomputed)
  unsigned threads = 0;           // 0: all cores
  std::size_t max_listed = 20;    // problems kept per kind in the report (counts are always exact)
};

struct VerifyProgress {
  std::uint64_t files_done = 0;
  std::uint64_t files_total = 0;
  std::uint64_t records = 0;
  std::uint64_t bytes_done = 0;   // compressed bytes of finished files
  std::uint64_t bytes_total = 0;
};

struct VerifyReport {
  std::filesystem::path dir;
  bool signatures_checked = false;
  std::uint64_t files = 0;          // day files
  std::uint64_t bytes = 0;          // their total size
  std::uint64_t records = 0;        // records read
  std::uint64_t valid_records = 0;  // decoded, id (and signature when checked) verified, right day, first copy
  std::uint64_t index_rows = 0;
  std::uint64_t salvageable = 0;    // valid records in damaged members before the damage point
  double elapsed_s = 0;
  std::array<std::uint64_t, kProblemKindCount> counts{};
  std::vector<Problem> problems;    // up to max_listed per kind, in file order

  bool ok() const;
  std::uint64_t problem_count() const;
};

// Throws std::runtime_error when `dir` is not an archive (missing, or neither index.db nor day files),
// when another process is writing it, or on I/O errors other than damage. Holds the archive lock shared
// while it runs, so no writer starts meanwhile. `progress` (optional) is called from the calling thread
// about five times a second.
VerifyReport verify_archive(const std::filesystem::path& dir, const VerifyOptions& options,
                            const std::function<void(const VerifyProgress&)>& progress = {});

struct RepairOptions {
  VerifyOptions verify;
  bool fsync = true;
  // Tests only: called at each step of the repair (see archive_repair.cpp) to simulate a crash there.
  std::function<void(std::string_view step)> crash_point;
};

struct RepairReport {
  VerifyReport before;
  bool changed = false;                 // false: nothing needed repairing
  std::vector<std::string> actions;     // one line per change, for the report and the log
  std::uint64_t records_salvaged = 0;   // valid records re-appended from damaged members
  std::uint64_t records_moved = 0;      // valid records moved to the day file of their created_at
  std::uint64_t records_dropped = 0;    // invalid records and extra copies removed
  std::uint64_t damaged_bytes = 0;      // bytes of damaged members cut out (their valid records re-appended)
  std::uint64_t rows_inserted = 0;
  std::uint64_t rows_updated = 0;
  std::uint64_t rows_deleted = 0;
  std::uint64_t files_rewritten = 0;
  std::uint64_t files_removed = 0;
  std::vector<std::string> backups;     // originals of rewritten files that lost bytes or records
  VerifyReport after;
};

// Takes the archive's writer lock, finishes an interrupted repair, verifies, fixes every problem it
// can (see docs/archive-format.md) and verifies again. Throws like verify_archive; any failure before
// the index commit leaves the archive unchanged.
RepairReport repair_archive(const std::filesystem::path& dir, const RepairOptions& options,
                            const std::function<void(const VerifyProgress&)>& progress = {});

}  // namespace pb
