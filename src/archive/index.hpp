// The SQLite index (index.db) of an archive: one row per stored event, plus the committed length of
// every day file and a little metadata. Schema and PRAGMA choices: docs/index.md.
//
// Schema version 5: events rows hold the 32-byte id, integer author and file ids (authors, files tables),
// and are found by id through an index on the id's first 8 bytes; tag rows are grouped by slices of 2^20
// events and carry the event's kind; a NIP-40 expiration is a tag row too (docs/index.md). From the sqlite3 shell:
//   SELECT * FROM events_hex WHERE id = lower('<hex>');   -- view with hex columns (scans; fine for a few M rows)
//   SELECT * FROM events WHERE substr(id, 1, 8) = substr(X'<hex>', 1, 8) AND id = X'<hex>';  -- indexed
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nostr/crypto.hpp"
#include "nostr/event.hpp"

namespace pb {

// A single-letter tag's name and first value (NIP-01 `#x` filters match a tag's first value), as the
// tag index keys them: the name in the top byte, the low 56 bits of SHA-256(value) below. A key can
// match a value it was not made from (1 in 2^56 per pair), so a query's events are checked against the
// filter itself before they are served; counts from the tag index are exact up to such collisions.
struct IndexTag {
  std::int64_t key = 0;
  auto operator<=>(const IndexTag&) const = default;
};
// An event's NIP-40 expiration, as index_tags() lists it: this name byte (no filter can ask for it) over
// the expiration time, clamped to [0, 2^56). Its tag row is keyed by the event's seq instead, with the
// time in created_at (IndexQuery::with_expiration reads it).
inline constexpr char kExpirationTagName = '\x01';
inline bool is_expiration(IndexTag t) { return (static_cast<std::uint64_t>(t.key) >> 56) == kExpirationTagName; }
inline std::int64_t expiration_key(std::int64_t seq) { return (std::int64_t{kExpirationTagName} << 56) | seq; }

IndexTag index_tag(char name, std::string_view value);
IndexTag index_tag(char name, std::string_view value, Sha256Hasher& hasher);
// An event's tag keys (and its expiration, if any), sorted and without repeats (computed off the writer thread: it hashes). Hot paths
// pass their thread's hasher.
std::vector<IndexTag> index_tags(const Event& ev);
std::vector<IndexTag> index_tags(const Event& ev, Sha256Hasher& hasher);

struct IndexRow {
  Id32 id{};
  Id32 pubkey{};
  std::int64_t created_at = 0;
  std::int32_t kind = 0;
  std::string file_name;          // day file name relative to the archive, e.g. "2025_09_27.pb.gz"
  std::uint64_t member_offset = 0;  // compressed offset of the gzip member holding the record
  std::int64_t seq = 0;             // read only: insertion order, rising across commits (rows_after())
  std::optional<std::int64_t> expiration;  // read only: the NIP-40 expiration, if IndexQuery::with_expiration
  std::vector<IndexTag> tags;       // on insert: the event's single-letter tags (index_tags()) for the tag index
};

struct FileRow {
  std::string file_name;
  std::uint64_t committed_bytes = 0;  // file length covered by committed index rows
  std::uint64_t events = 0;
};

struct IndexQuery {
  std::vector<Id32> ids;        // any of (empty: no constraint)
  std::vector<Id32> authors;    // any of
  std::vector<std::int32_t> kinds;  // any of
  std::optional<std::int64_t> since;  // created_at >= since
  std::optional<std::int64_t> until;  // created_at <= until
  std::optional<std::uint64_t> limit;
  // Tag conditions, ANDed: each holds when the event has a tag `name` whose first value is any of `values`.
  std::vector<std::pair<char, std::vector<std::string>>> tags;
  // Fill IndexRow::expiration from the tag index (one more B-tree look-up per row, in the same statement).
  bool with_expiration = false;
};

// One ArchiveIndex per thread: an object (its SQLite connection and cached statements) must not be used
// from two threads at once. Any number of read_only objects, in any threads or processes, may run beside
// one read_write object; a second writer waits up to the busy timeout in begin() and then throws.
class ArchiveIndex {
 public:
  enum class Mode { read_write, read_only };

  // Opens (creating when read_write) the index at `path`. Throws std::runtime_error with SQLite's
  // message on failure. read_only connections may be used concurrently with one read_write writer (WAL).
  // `cache_kib` caps this connection's page cache (0: kDefaultWriterCacheKiB or kDefaultReaderCacheKiB).
  static ArchiveIndex open(const std::filesystem::path& path, Mode mode, std::size_t cache_kib = 0);
  // Page cache ceilings (allocated only as pages are touched): see docs/index.md.
  static constexpr std::size_t kDefaultWriterCacheKiB = 256 * 1024;
  static constexpr std::size_t kDefaultReaderCacheKiB = 64 * 1024;

  // Reads the file through a memory map of up to `bytes` (PRAGMA mmap_size; 0, the default: off): no
  // system call and copy per page for a reader of an index larger than its page cache. The cost: an I/O
  // error, or the file cut shorter while mapped (our tools replace it by rename, never shrink it in
  // place), ends the process with SIGBUS instead of returning an error. See docs/index.md. Returns the
  // size SQLite granted (its build caps it; Debian's at 2 GiB).
  std::uint64_t map_file(std::uint64_t bytes);

  ~ArchiveIndex();
  ArchiveIndex(ArchiveIndex&&) noexcept;
  ArchiveIndex& operator=(ArchiveIndex&&) noexcept;

  // Transactions (writer only). Rows are only visible to other connections after commit().
  void begin();
  void commit();
  void rollback();

  // INSERT OR IGNORE: true when the row was inserted, false when the id was already present.
  bool insert_if_absent(const IndexRow& row);
  // Inserts a row whose id the caller knows is absent (ArchiveWriter checked it in add(), on this
  // connection). The id index is not unique (it holds 8-byte prefixes), so a present id would be stored
  // twice: use insert_if_absent() unless absence is certain. Saves a lookup on the single writer.
  // Returns the row's seq.
  std::int64_t insert_new(const IndexRow& row);

  bool contains(const Id32& id);
  std::optional<IndexRow> get(const Id32& id);

  // Rows matching every given constraint, newest created_at first (ties by id), up to limit.
  std::vector<IndexRow> query(const IndexQuery& q);
  // How many rows match (limit ignored), from the indexes alone.
  std::uint64_t count(const IndexQuery& q);
  std::uint64_t count();

  // ---- Live tail: rows committed after a point (seq is the insertion order; a reader that saw every row
  // up to seq S gets exactly the later ones). ----
  std::int64_t last_seq();
  // Up to `max` rows with seq > after, in seq order.
  std::vector<IndexRow> rows_after(std::int64_t after, std::size_t max);

  // ---- Relay cursors (the daemon): the newest created_at committed from each relay URL, written in the
  // same transaction as the relay's events (writer only, inside begin()/commit()). ----
  void set_relay_cursor(const std::string& url, std::int64_t cursor);
  std::map<std::string, std::int64_t> relay_cursors();

  // Day files and their committed lengths.
  void set_file(const FileRow& row);
  std::optional<FileRow> file(const std::string& file_name);
  std::vector<FileRow> files();

  // Small key/value metadata (e.g. the writer's commit sequence number).
  void set_meta(const std::string& key, const std::string& value);
  std::optional<std::string> meta(const std::string& key);

  // ---- Aggregates for `proton-beam stats` (archive_stats.cpp). Each reads one whole index B-tree
  // (kind or pubkey index), so they cost O(rows) but never touch the table itself. ----
  struct KindCount {
    std::int32_t kind = 0;
    std::uint64_t events = 0;
  };
  // Events per kind, most events first (ties: lower kind first).
  std::vector<KindCount> kind_counts();
  // Number of distinct pubkeys.
  std::uint64_t distinct_authors();
  // Oldest and newest created_at, or nullopt when the index is empty (two index probes).
  std::optional<std::pair<std::int64_t, std::int64_t>> created_at_range();

  // ---- Verify and repair (archive_verify.cpp, archive_repair.cpp). Writes are writer-only and belong
  // inside begin()/commit(). ----
  // Calls fn for every row with since <= created_at <= until, in no particular order (a range scan of
  // events_created). fn must not use this object.
  void for_each_row_created_between(std::int64_t since, std::int64_t until,
                                    const std::function<void(const IndexRow&)>& fn);
  // INSERT OR REPLACE: each row replaces the row with its id, if any.
  void put_rows(std::span<const IndexRow> rows);
  // Deletes the rows with these ids; returns how many existed.
  std::uint64_t erase_rows(std::span<const Id32> ids);
  // Removes a day file's entry from the files table.
  void erase_file(const std::string& file_name);
  void erase_meta(const std::string& key);

  // ---- Bulk load (index rebuild) ----
  // Drops the query indexes and stops syncing; call outside a transaction. end_bulk_load() rebuilds
  // them (call after the last commit), letting SQLite's sorter use `sorter_threads` threads. Only for a
  // fresh index nobody else reads.
  void begin_bulk_load(unsigned sorter_threads = 1);
  void end_bulk_load();
  // The tag rows insert_new() would add for an event with this seq and created_at, for a row that lives in
  // another index: index rebuild builds the tags B-tree in a scratch index on a thread of its own. Writer
  // only, inside a transaction.
  void insert_tags(std::int64_t seq, std::int64_t created_at, std::int32_t kind, std::span<const IndexTag> tags);
  // Copies every tag row of the (closed) index at `scratch` into this index's tags table, which must be
  // empty, in one transaction of its own (call outside one). SQLite copies the records without decoding
  // them (its transfer optimization): ~0.2 µs per row against ~0.7 to insert one.
  void import_tags(const std::filesystem::path& scratch);

 private:
  struct Impl;
  explicit ArchiveIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The relay cursors of the index at `path` whatever its schema version (index rebuild carries them over
// to the new index); empty when the file, or its relay_cursors table, is missing or unreadable.
std::map<std::string, std::int64_t> read_any_relay_cursors(const std::filesystem::path& path);

}  // namespace pb
