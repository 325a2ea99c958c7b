// The one writer of an archive folder: appends records to day files as gzip members and keeps index.db
// in step. convert, merge and the daemon all write through it.
//
// Crash safety (docs/archive-format.md): between commits, new members are written past each file's
// committed length. Before the first write to a file in a transaction, its previous length is recorded
// in a journal (.proton-beam.journal) together with the transaction's sequence number. commit() writes
// and fsyncs the data, then commits the index rows, the files' new committed lengths and the sequence
// number in one SQLite transaction, then clears the journal. Opening an archive whose journal names a
// transaction the index never committed cuts every listed file back to its recorded length, so a kill at
// any moment leaves exactly the committed events, and rerunning the same input stores the rest once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "archive/index.hpp"
#include "nostr/event.hpp"
#include "archive/gzip_member.hpp"

namespace pb {

struct ArchiveWriterOptions {
  int compression_level = 6;
  std::size_t member_bytes = kDefaultMemberBytes;   // seal a day's member at this much raw record data
  std::size_t max_pending_bytes = 64u << 20;        // cap on unsealed record data across all days
  std::uint64_t commit_bytes = 256ull << 20;        // should_commit() after this much record data
  bool fsync = true;                                // fdatasync day files before each index commit
  // Threads that compress sealed members while the writer goes on: -1 = one per CPU, 0 = compress on the
  // writer's thread. A member's bytes depend only on its records and the level, and members are appended
  // in the order they were sealed, so the day files are the same for any value.
  int compression_threads = -1;
  std::size_t max_inflight_bytes = 32u << 20;       // cap on sealed, not yet written record data
  std::size_t index_cache_kib = 0;                  // the index connection's page cache (0: its default)
};

// CPU time the writer spent outside the caller's own accounting (seconds, summed over threads).
struct WriterCpu {
  double index_s = 0;             // SQLite work on the writer's thread (inserts, commits; not add()'s lookups)
  double compress_s = 0;          // libdeflate, on the compression threads or inline
  double compress_on_writer_s = 0;  // the part of compress_s spent on the writer's thread
};

// A validated event ready to store: its index fields and its framed record (varint(len) || ProtoEvent).
struct StagedEvent {
  Id32 id{};
  Id32 pubkey{};
  std::int64_t created_at = 0;
  std::int32_t kind = 0;
  std::string_view record;
  std::span<const IndexTag> tags;  // index_tags() of the event (for the tag index); may be empty
};
// The writer copies everything it keeps: `record` and `tags` only need to live until add() returns.

inline constexpr const char* kJournalFileName = ".proton-beam.journal";
inline constexpr const char* kCommitSeqKey = "commit_seq";  // meta key: sequence number of the last commit

// The crash journal: "seq N" then one "presize<TAB>file" line per file written in the open transaction.
// It is only meaningful while N is above the index's commit_seq.
struct WriterJournal {
  std::uint64_t seq = 0;
  std::vector<std::pair<std::uint64_t, std::string>> entries;
};
std::optional<WriterJournal> read_writer_journal(const std::filesystem::path& path);

struct RecoveryReport {
  std::vector<std::string> actions;  // human-readable: what was cut or found on open
};

class ArchiveWriter {
 public:
  // Opens or creates the archive folder and its index, and completes crash recovery. Throws
  // std::runtime_error when the folder or index cannot be created or written.
  ArchiveWriter(const std::filesystem::path& dir, ArchiveWriterOptions options);
  ~ArchiveWriter();  // uncommitted work is rolled back (files cut back, index transaction dropped)
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  const RecoveryReport& recovery() const;
  const std::filesystem::path& dir() const;
  std::filesystem::path index_path() const;

  // Stores the event unless its id is already archived (committed or earlier in this transaction).
  // Returns false for such a duplicate.
  bool add(const StagedEvent& ev);

  // Records a relay's cursor (newest created_at received from it) to be written in the next commit's
  // index transaction, so a cursor never runs ahead of the events it covers. The latest value per URL wins.
  void stage_relay_cursor(const std::string& url, std::int64_t cursor);

  // True once enough data is pending that the caller should commit().
  bool should_commit() const;

  // Seals every open member, writes and syncs the data, commits the index. Returns the ids added
  // since the previous commit (the caller uses them to retire in-flight dedup state).
  std::vector<Id32> commit();

  // Compressed bytes appended to day files by this writer (committed or not; members still being
  // compressed are counted once written).
  std::uint64_t bytes_written() const;
  // CPU time so far. index_s covers row inserts and commits, timed per member and per commit; add()'s
  // id lookup is not timed (it counts as the caller's time).
  WriterCpu cpu() const;
  // Direct access for read queries inside the writer's thread.
  ArchiveIndex& index();

  // ---- Maintenance between commits (compaction, src/archive/compact.hpp) ----
  const ArchiveWriterOptions& options() const;
  // True when nothing was added or staged since the last commit(): the index transaction the writer
  // keeps open is empty and no member is pending or in flight.
  bool idle() const;
  // Forgets what the writer cached about a day file (its lengths and event count), so the next add() to
  // that day reads them again from disk and the index: call after replacing the file. Only while idle().
  void forget_day(const std::string& file_name);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pb
