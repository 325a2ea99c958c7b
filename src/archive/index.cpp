// SQLite index of an archive. Schema, PRAGMAs and the measurements behind them: docs/index.md.
#include "archive/index.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <unordered_map>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>

#include "archive/index_query_sql.hpp"
#include "archive/int64_rows_table.hpp"
#include "nostr/crypto.hpp"
#include "nostr/expiration.hpp"
#include "nostr/hex.hpp"

namespace pb {
namespace {

// Bump when the schema changes; open() refuses anything newer than this.
constexpr int kSchemaVersion = 5;  // 2: seq, tag index, relay cursors; 3: compact rows; 4: tag parts;
                                   // 5: kind and NIP-40 expiration in tag rows (docs/index.md)
// PRAGMA application_id marks the file as a Proton Beam index ("PBIX"), so `file index.db` can tell and we
// refuse to write our tables into somebody else's database.
constexpr std::int32_t kApplicationId = 0x50424958;

// 8 KiB pages measured ~15% faster for batched random-key inserts than the 4 KiB default, at equal lookup
// speed; 16 KiB gained a little more on inserts but lost some on lookups (docs/index.md).
constexpr int kPageSize = 8192;
// Cache ceilings (ArchiveIndex::kDefault*CacheKiB), allocated only as pages are touched. Random-key inserts
// want as many leaves cached as possible: 256 MiB measured +17% over 64 MiB and +64% over SQLite's 2 MiB
// default at 1M rows (version 2). Readers do point lookups; 64 MiB holds the interior pages of the id
// index to ~100M rows, so a miss costs one leaf read. Writers of bounded memory pass less (convert
// --index-cache-mib).
// Readers wait this long for a writer's checkpoint or schema change instead of failing at once.
constexpr int kBusyTimeoutMs = 10'000;
// After a checkpoint the WAL is truncated back to this size, so a long convert does not leave a huge -wal.
constexpr std::int64_t kJournalSizeLimit = 64LL << 20;

// Version 4 (3 + tag parts), sized for billions of events (measurements: docs/index.md). events is a rowid table in
// insertion order (seq), so rows are appended, pages stay full and secondary indexes carry a small seq.
// The id is found through an index on its first 8 bytes (ids are SHA-256 output; the row's full id
// settles the rare shared prefix) instead of a unique index on all 32. Authors and day files are integer
// ids into their own tables (day_files names every file rows ever pointed into; files keeps what is
// committed of each, as in version 2). Tag rows key a tag by its name and a 56-bit hash of its value (IndexTag),
// behind the part of 2^20 events they belong to (version 4): a writer's new rows then go into the newest
// part of the B-tree, not all over it, so inserts do not slow down as the archive grows. Tag rows carry
// the event's kind (version 5), so `#p` + kinds reads only the matching events' rows, and an event with a
// NIP-40 expiration has one more tag row keyed by its seq (kExpirationTagName) holding the expiration in
// created_at, so a COUNT can apply NIP-40 without decoding the event.
// CHECKs keep hex text pasted into the shell out of the blob columns.
constexpr std::string_view kSchema = R"sql(
CREATE TABLE authors(
  aid    INTEGER PRIMARY KEY,
  pubkey BLOB    NOT NULL UNIQUE CHECK (typeof(pubkey) = 'blob' AND length(pubkey) = 32)
);
CREATE TABLE day_files(
  fid       INTEGER PRIMARY KEY AUTOINCREMENT,
  file_name TEXT    NOT NULL UNIQUE
);
CREATE TABLE files(
  file_name       TEXT    NOT NULL PRIMARY KEY,
  committed_bytes INTEGER NOT NULL,
  events          INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE events(
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  id            BLOB    NOT NULL CHECK (typeof(id) = 'blob' AND length(id) = 32),
  kind          INTEGER NOT NULL,
  aid           INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  fid           INTEGER NOT NULL,
  member_offset INTEGER NOT NULL
);
CREATE INDEX events_id ON events(substr(id, 1, 8));
CREATE TABLE meta(
  key   TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE tags(
  part       INTEGER NOT NULL,
  key        INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  kind       INTEGER NOT NULL,
  PRIMARY KEY (part, key, created_at, seq)
) WITHOUT ROWID;
CREATE TABLE relay_cursors(
  url    TEXT    NOT NULL PRIMARY KEY,
  cursor INTEGER NOT NULL
) WITHOUT ROWID;
CREATE VIEW events_hex AS
  SELECT lower(hex(e.id)) AS id, e.kind, lower(hex(a.pubkey)) AS pubkey, e.created_at, f.file_name AS file_path,
         e.member_offset, e.seq
  FROM events e LEFT JOIN authors a ON a.aid = e.aid LEFT JOIN day_files f ON f.fid = e.fid;
CREATE VIEW tags_hex AS
  SELECT CASE WHEN key >> 56 = 1 THEN 'expiration' ELSE char(key >> 56) END AS name,
         printf('%014x', key & 72057594037927935) AS value_hash, created_at, seq, part, kind
  FROM tags;
)sql";

// Query indexes, kept apart so a bulk load (index rebuild) can build them after the rows are in. The id
// index stays: inserts look ids up.
constexpr std::string_view kSecondaryIndexes = R"sql(
CREATE INDEX IF NOT EXISTS events_kind_created ON events(kind, created_at);
CREATE INDEX IF NOT EXISTS events_author_created ON events(aid, created_at);
CREATE INDEX IF NOT EXISTS events_created ON events(created_at);
)sql";
constexpr std::string_view kDropSecondaryIndexes = R"sql(
DROP INDEX IF EXISTS events_kind_created;
DROP INDEX IF EXISTS events_author_created;
DROP INDEX IF EXISTS events_created;
)sql";

// Rows are read from events alone; author and file ids become the pubkey and file name through
// per-connection caches (both mappings never change once committed) instead of joining authors and
// day_files for every row (bench_serve JSONL: median 54k events/s over 5 runs, against 37k and 46k).
constexpr const char* kRowColumns =
    "events.id, events.aid, events.created_at, events.kind, events.fid, events.member_offset, events.seq";
constexpr const char* kRowFrom = "events";
// kRowColumns plus the event's NIP-40 expiration (NULL when none): its tag row, keyed by seq
// (expiration_key()), read in the same statement as the row.
const std::string kRowColumnsWithExpiration =
    fmt::format("{}, (SELECT x.created_at FROM tags AS x WHERE x.part = events.seq >> {} AND x.key = {} | events.seq)",
                kRowColumns, kTagPartBits, expiration_key(0));


struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Resets a cached statement when the call that used it ends, however it ends. A statement left
// mid-step would keep its read transaction open and pin the connection to an old WAL snapshot.
class StmtUse {
 public:
  explicit StmtUse(sqlite3_stmt* s) : s_(s) {}
  ~StmtUse() { sqlite3_reset(s_); }
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_;
};

std::int64_t to_i64(std::uint64_t v) {
  return static_cast<std::int64_t>(std::min<std::uint64_t>(v, std::numeric_limits<std::int64_t>::max()));
}

// The cached statements, one slot each; prepared on first use so a reader never prepares writes.
enum Slot : std::size_t {
  kBegin,
  kCommit,
  kRollback,
  kInsert,
  kContains,
  kGet,
  kCount,
  kSetFile,
  kGetFile,
  kListFiles,
  kSetMeta,
  kGetMeta,
  kInsertTag,
  kSetCursor,
  kRowsAfter,
  kLastSeq,
  kFindAuthor,
  kInsertAuthor,
  kFindFile,
  kInsertFile,
  kAuthorById,
  kFileById,
  kSlotCount
};

constexpr std::array<const char*, kSlotCount> kSlotSql = {
    // IMMEDIATE takes the write lock now, so a second writer fails at begin() rather than mid-batch.
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "INSERT INTO events(id, kind, aid, created_at, fid, member_offset) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    // The 8-byte prefix finds the candidates through events_id; the full id picks the row.
    "SELECT 1 FROM events WHERE substr(id, 1, 8) = substr(?1, 1, 8) AND id = ?1",
    "SELECT events.id, events.aid, events.created_at, events.kind, events.fid, events.member_offset, events.seq "
    "FROM events WHERE substr(events.id, 1, 8) = substr(?1, 1, 8) AND events.id = ?1",
    "SELECT count(*) FROM events",
    "INSERT INTO files(file_name, committed_bytes, events) VALUES (?1, ?2, ?3) "
    "ON CONFLICT(file_name) DO UPDATE SET committed_bytes = excluded.committed_bytes, events = excluded.events",
    "SELECT file_name, committed_bytes, events FROM files WHERE file_name = ?1",
    "SELECT file_name, committed_bytes, events FROM files ORDER BY file_name",
    "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    "SELECT value FROM meta WHERE key = ?1",
    // One statement per flush over the buffered rows (Int64RowsTable): its cursor on tags stays open.
    "INSERT OR IGNORE INTO tags(part, key, created_at, seq, kind) SELECT part, key, created_at, seq, kind "
    "FROM pb_pending_tags",
    "INSERT INTO relay_cursors(url, cursor) VALUES (?1, ?2) ON CONFLICT(url) DO UPDATE SET cursor = excluded.cursor",
    "SELECT events.id, events.aid, events.created_at, events.kind, events.fid, events.member_offset, events.seq "
    "FROM events WHERE events.seq > ?1 ORDER BY events.seq LIMIT ?2",
    "SELECT coalesce(max(seq), 0) FROM events",
    "SELECT aid FROM authors WHERE pubkey = ?1",
    "INSERT INTO authors(pubkey) VALUES (?1)",
    "SELECT fid FROM day_files WHERE file_name = ?1",
    "INSERT INTO day_files(file_name) VALUES (?1)",
    "SELECT pubkey FROM authors WHERE aid = ?1",
    "SELECT file_name FROM day_files WHERE fid = ?1",
};

constexpr std::array<const char*, kSlotCount> kSlotWhat = {
    "beginning a transaction", "committing", "rolling back", "inserting an event", "looking up an id",
    "reading an event",        "counting events", "recording a file", "reading a file", "listing files",
    "setting metadata",        "reading metadata",   "indexing a tag",  "setting a relay cursor",
    "reading new rows",        "reading the last sequence number", "looking up an author", "adding an author",
    "looking up a file",       "adding a file",  "reading an author", "reading a file name",
};

// Duplicates in a list change nothing but the statement shape; drop them so shapes repeat more.
template <class T>
std::vector<T> unique_sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// A tag row waiting for the transaction's flush: part (seq >> kTagPartBits), key, created_at, seq — the
// tags key's columns in its order, so sorting the arrays sorts by that key — then kind. Plain arrays, so
// a batch is one contiguous run of int64s for the pb_pending_tags table.
using PendingTag = std::array<std::int64_t, 5>;
static_assert(sizeof(PendingTag) == 5 * sizeof(std::int64_t));
constexpr const char* kPendingTagsTable = "pb_pending_tags";
// Anyone can grind keys whose raw bytes collide in a table's low bits, so the bytes are mixed with a
// per-connection random seed first.
struct PubkeyHash {
  std::uint64_t seed = std::random_device{}() * 0x9e3779b97f4a7c15ULL + std::random_device{}();
  std::size_t operator()(const Id32& k) const noexcept {
    std::uint64_t a, b;
    std::memcpy(&a, k.data(), sizeof a);
    std::memcpy(&b, k.data() + 8, sizeof b);
    std::uint64_t x = (a ^ seed) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 31) ^ b) * 0x94d049bb133111ebULL;
    return static_cast<std::size_t>(x ^ (x >> 29));
  }
};
// Writer-side author id cache: ~64 B per entry, so at most ~8 MB.
constexpr std::size_t kAuthorCacheEntries = 1 << 17;

constexpr std::uint64_t kLow56 = (std::uint64_t{1} << 56) - 1;

// Tag rows buffered before a sorted flush: bounds the memory of one long transaction (index rebuild).
constexpr std::size_t kTagFlushRows = 1 << 20;

// A query with its lists deduplicated (tag conditions by name too), and the statement shape it needs.
struct PreparedQuery {
  std::vector<Id32> ids, authors;
  std::vector<std::int32_t> kinds;
  std::vector<std::pair<char, std::vector<std::string>>> tags;
  IndexQueryShape shape;

  PreparedQuery(const IndexQuery& q, bool count)
      : ids(unique_sorted(q.ids)), authors(unique_sorted(q.authors)), kinds(unique_sorted(q.kinds)) {
    for (const auto& [name, values] : q.tags) tags.emplace_back(name, unique_sorted(values));
    shape = {ids.size(), authors.size(), kinds.size(), q.since.has_value(), q.until.has_value(),
             q.limit.has_value() && !count, {}, count, q.with_expiration && !count};
    for (const auto& t : tags) shape.tag_values.push_back(t.second.size());
  }
};

}  // namespace

struct ArchiveIndex::Impl {
  std::string path;  // absolute, for messages
  Mode mode = Mode::read_write;
  std::size_t cache_kib = 0;
  // What pb_pending_tags shows (writer); declared before db so it outlives the connection.
  std::unique_ptr<Int64RowsTable> pending_table;
  DbPtr db;  // declared before the statements so they are finalized first
  std::array<StmtPtr, kSlotCount> stmts;
  std::map<std::string, StmtPtr> query_stmts;  // query() shapes, keyed by which constraints are present
  std::vector<PendingTag> pending_tags;         // tag rows of this transaction not yet in the B-tree
  // File ids by name (writer). day_files rows are never deleted, so an entry only goes stale when a
  // rollback undoes the insert that made it: rollback() clears the map.
  std::map<std::string, std::int64_t, std::less<>> fids;
  // Author ids by pubkey (writer), the same way: cleared by rollback(), and when full.
  std::unordered_map<Id32, std::int64_t, PubkeyHash> aids;
  // The reverse mappings for reading rows (any connection). A committed author or file id never changes
  // meaning; one from a rolled-back insert could be handed out again, so rollback() clears these too.
  std::unordered_map<std::int64_t, Id32> pubkeys;      // at most kAuthorCacheEntries
  std::unordered_map<std::int64_t, std::string> file_names;  // one per day file

  [[noreturn]] void fail(int rc, std::string_view what) const {
    std::string msg = "index " + path + ": " + std::string(what) + ": ";
    msg += db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc);
    if ((rc & 0xff) == SQLITE_BUSY) msg += " (another process is writing this index?)";
    throw std::runtime_error(msg);
  }
  // For our own refusals, where SQLite's last message would be unrelated.
  [[noreturn]] void refuse(std::string_view what) const {
    throw std::runtime_error("index " + path + ": " + std::string(what));
  }
  void check(int rc, std::string_view what) const {
    if (rc != SQLITE_OK) fail(rc, what);
  }

  void exec(const char* sql, std::string_view what) {
    check(sqlite3_exec(db.get(), sql, nullptr, nullptr, nullptr), what);
  }

  StmtPtr prepare(std::string_view sql, std::string_view what, unsigned flags) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db.get(), sql.data(), static_cast<int>(sql.size()), flags, &raw, nullptr);
    StmtPtr s(raw);
    check(rc, what);
    return s;
  }

  sqlite3_stmt* stmt(Slot slot) {
    auto& s = stmts[slot];
    if (!s) s = prepare(kSlotSql[slot], kSlotWhat[slot], SQLITE_PREPARE_PERSISTENT);
    return s.get();
  }

  // Steps once; true on a row, false when done, throws on error.
  bool step(sqlite3_stmt* s, std::string_view what) {
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(rc, what);
  }

  void run(Slot slot) {
    StmtUse use(stmt(slot));
    step(use.get(), kSlotWhat[slot]);
  }

  std::int64_t pragma_int(const char* sql) {
    StmtPtr s = prepare(sql, sql, 0);
    if (!step(s.get(), sql)) refuse(std::string(sql) + " returned no row");
    return sqlite3_column_int64(s.get(), 0);
  }

  void bind_id(sqlite3_stmt* s, int i, const Id32& id) {
    check(sqlite3_bind_blob(s, i, id.data(), static_cast<int>(id.size()), SQLITE_STATIC), "binding an id");
  }
  void bind_text(sqlite3_stmt* s, int i, const std::string& t) {
    check(sqlite3_bind_text(s, i, t.data(), static_cast<int>(t.size()), SQLITE_STATIC), "binding text");
  }
  void bind_i64(sqlite3_stmt* s, int i, std::int64_t v) {
    check(sqlite3_bind_int64(s, i, v), "binding an integer");
  }

  std::string column_text(sqlite3_stmt* s, int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, col))) : std::string();
  }
  Id32 column_id(sqlite3_stmt* s, int col) {
    Id32 out{};
    const void* p = sqlite3_column_blob(s, col);
    if (sqlite3_column_bytes(s, col) != static_cast<int>(out.size()) || p == nullptr)
      refuse("reading a row: id/pubkey is not a 32-byte blob");
    std::memcpy(out.data(), p, out.size());
    return out;
  }
  // Reads the kRowColumns layout.
  IndexRow read_row(sqlite3_stmt* s) {
    IndexRow r;
    r.id = column_id(s, 0);
    r.pubkey = pubkey_of(sqlite3_column_int64(s, 1));
    r.created_at = sqlite3_column_int64(s, 2);
    r.kind = sqlite3_column_int(s, 3);
    r.file_name = file_name_of(sqlite3_column_int64(s, 4));
    r.member_offset = static_cast<std::uint64_t>(sqlite3_column_int64(s, 5));
    r.seq = sqlite3_column_int64(s, 6);
    if (sqlite3_column_count(s) > 7 && sqlite3_column_type(s, 7) != SQLITE_NULL) r.expiration = sqlite3_column_int64(s, 7);
    return r;
  }

  // The pubkey of an author id; a missing authors row (a damaged index) is an error, never a guess.
  const Id32& pubkey_of(std::int64_t aid) {
    if (const auto it = pubkeys.find(aid); it != pubkeys.end()) return it->second;
    StmtUse use(stmt(kAuthorById));
    bind_i64(use.get(), 1, aid);
    if (!step(use.get(), kSlotWhat[kAuthorById]))
      refuse("reading a row: author id " + std::to_string(aid) + " is not in the authors table");
    if (pubkeys.size() >= kAuthorCacheEntries) pubkeys.clear();
    return pubkeys.emplace(aid, column_id(use.get(), 0)).first->second;
  }
  const std::string& file_name_of(std::int64_t fid) {
    if (const auto it = file_names.find(fid); it != file_names.end()) return it->second;
    StmtUse use(stmt(kFileById));
    bind_i64(use.get(), 1, fid);
    if (!step(use.get(), kSlotWhat[kFileById]))
      refuse("reading a row: file id " + std::to_string(fid) + " is not in the day_files table");
    return file_names.emplace(fid, column_text(use.get(), 0)).first->second;
  }

  // The id of a row of a lookup table (authors, files), inserting one when there is none.
  std::int64_t find_or_insert(Slot find, Slot insert, const std::function<void(sqlite3_stmt*)>& bind_key) {
    {
      StmtUse use(stmt(find));
      bind_key(use.get());
      if (step(use.get(), kSlotWhat[find])) return sqlite3_column_int64(use.get(), 0);
    }
    StmtUse use(stmt(insert));
    bind_key(use.get());
    step(use.get(), kSlotWhat[insert]);
    return sqlite3_last_insert_rowid(db.get());
  }
  std::int64_t author_id(const Id32& pubkey) {
    if (const auto it = aids.find(pubkey); it != aids.end()) return it->second;
    const auto aid = find_or_insert(kFindAuthor, kInsertAuthor, [&](sqlite3_stmt* s) { bind_id(s, 1, pubkey); });
    if (aids.size() >= kAuthorCacheEntries) aids.clear();  // crude but bounded; authors repeat a lot
    aids.emplace(pubkey, aid);
    return aid;
  }
  std::int64_t file_id(const std::string& name) {
    if (const auto it = fids.find(name); it != fids.end()) return it->second;
    const auto fid = find_or_insert(kFindFile, kInsertFile, [&](sqlite3_stmt* s) { bind_text(s, 1, name); });
    fids.emplace(name, fid);
    return fid;
  }

  // Binds a PreparedQuery in the order index_query_sql numbers its parameters.
  void bind_query(sqlite3_stmt* s, const PreparedQuery& pq, const IndexQuery& q) {
    int p = 1;
    for (const auto& id : pq.ids) bind_id(s, p++, id);
    for (const auto& a : pq.authors) bind_id(s, p++, a);
    for (const auto k : pq.kinds) bind_i64(s, p++, k);
    if (q.since) bind_i64(s, p++, *q.since);
    if (q.until) bind_i64(s, p++, *q.until);
    if (pq.shape.limit) bind_i64(s, p++, to_i64(*q.limit));
    for (const auto& [name, values] : pq.tags)
      for (const auto& v : values) bind_i64(s, p++, index_tag(name, v).key);
  }

  // Tag rows wait here and go into the tags B-tree sorted by its key at commit (or every
  // kTagFlushRows): an event's tags land all over that B-tree, and inserting them in key order touches
  // each page once per flush instead of once per row. Only committed rows are visible to other
  // connections anyway, and nothing on the writer's own connection reads tags mid-transaction.
  void insert_tags(std::span<const IndexTag> tags, std::int64_t created_at, std::int64_t seq, std::int32_t kind) {
    for (const IndexTag& t : tags) {
      // The expiration row is found by seq (expiration()): its key holds the seq, its created_at the time.
      if (is_expiration(t))
        pending_tags.push_back({seq >> kTagPartBits, expiration_key(seq),
                                static_cast<std::int64_t>(static_cast<std::uint64_t>(t.key) & kLow56), seq, kind});
      else
        pending_tags.push_back({seq >> kTagPartBits, t.key, created_at, seq, kind});
    }
    if (pending_tags.size() >= kTagFlushRows) flush_tags();
  }

  void flush_tags() {
    if (pending_tags.empty()) return;
    std::sort(pending_tags.begin(), pending_tags.end());  // the tags key's order
    pending_table->show({pending_tags.front().data(), pending_tags.size() * std::tuple_size_v<PendingTag>});
    {
      StmtUse use(stmt(kInsertTag));
      step(use.get(), kSlotWhat[kInsertTag]);
    }
    pending_table->show({});
    pending_tags.clear();
  }

  // Connection-level settings; see docs/index.md for the measurements.
  void configure_connection() {
    sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
    const std::size_t cache = cache_kib != 0 ? cache_kib
                              : mode == Mode::read_write ? kDefaultWriterCacheKiB
                                                         : kDefaultReaderCacheKiB;
    const std::string pragmas = "PRAGMA cache_size = -" + std::to_string(cache) + "; PRAGMA temp_store = MEMORY;";
    exec(pragmas.c_str(), "configuring the connection");
  }

  void check_identity(bool allow_empty) {
    const auto app = pragma_int("PRAGMA application_id");
    const auto version = pragma_int("PRAGMA user_version");
    if (app != 0 && app != kApplicationId)
      refuse("opening: not a Proton Beam index (application_id " + std::to_string(app) + ")");
    if (version >= 1 && version <= 4)
      refuse("opening: schema version " + std::to_string(version) + " (" +
             (version == 1   ? "from before the tag index"
              : version == 2 ? "the larger layout before version 3"
              : version == 3 ? "the tag index before its parts, version 4"
                             : "tag rows without kinds and expirations, before version 5") +
             "); upgrade it with `proton-beam index rebuild <archive>`, which rebuilds index.db from the day "
             "files (relay cursors of proton-beam-daemon are carried over)");
    if (version > kSchemaVersion)
      refuse("opening: schema version " + std::to_string(version) + " is newer than this build supports (" +
             std::to_string(kSchemaVersion) + "); use a newer proton-beam");
    if (version == 0) {
      const auto tables = pragma_int("SELECT count(*) FROM sqlite_schema");
      if (tables != 0)
        refuse("opening: database has tables but no Proton Beam schema version (an index from another tool or "
               "an older layout?); move it away and run `proton-beam index rebuild`");
      if (!allow_empty) refuse("opening: not an initialised Proton Beam index (empty database)");
    }
  }

  void open_writer() {
    // Identity first, so a foreign or too-new file is refused before we change its journal mode.
    check_identity(/*allow_empty=*/true);
    // Page size only takes effect on an empty file, and must be set before WAL is switched on.
    if (pragma_int("PRAGMA user_version") == 0) {
      const std::string ps = "PRAGMA page_size = " + std::to_string(kPageSize);
      exec(ps.c_str(), "setting the page size");
    }
    // journal_mode=WAL is persistent in the file; readers then never block the writer or vice versa.
    {
      StmtPtr s = prepare("PRAGMA journal_mode = WAL", "enabling WAL", 0);
      const std::string got = step(s.get(), "enabling WAL") ? column_text(s.get(), 0) : std::string();
      if (got != "wal")
        refuse("enabling WAL: journal mode stayed '" + got + "' (file system without shared memory?)");
    }
    // wal_autocheckpoint 16384 pages (128 MiB; SQLite's default is 1000): the daemon's small commits
    // dirty index pages spread over the id and tag B-trees, and a checkpoint after every commit wrote
    // each page twice; fewer checkpoints write a page once for several commits (bench_daemon: 2,452 ->
    // 2,798-3,105 stored events/s). journal_size_limit still truncates the WAL back after a checkpoint.
    // FULL, not NORMAL: each commit is durable when commit() returns. ArchiveWriter rewrites its journal
    // after a commit, so a commit lost to a power cut could leave a day file created in that commit that
    // the index does not know. Measured cost: ~7% at 10k-row commits, none at 100k (docs/index.md).
    const std::string pragmas = "PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 16384; PRAGMA journal_size_limit = " +
                                std::to_string(kJournalSizeLimit) + ";";
    exec(pragmas.c_str(), "configuring the writer");
    if (pragma_int("PRAGMA user_version") == kSchemaVersion) return;
    // Create the schema in one transaction; re-check inside it in case another writer raced us.
    run(kBegin);
    try {
      if (pragma_int("PRAGMA user_version") == 0) {
        exec(std::string(kSchema).c_str(), "creating the schema");
        exec(std::string(kSecondaryIndexes).c_str(), "creating the query indexes");
        const std::string ids = "PRAGMA application_id = " + std::to_string(kApplicationId) +
                                "; PRAGMA user_version = " + std::to_string(kSchemaVersion) + ";";
        exec(ids.c_str(), "stamping the schema version");
      }
      run(kCommit);
    } catch (...) {
      sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  static std::string columns(const IndexQueryShape& q) {
    return q.expiration ? kRowColumnsWithExpiration : std::string(kRowColumns);
  }

  // The cached statement of tag_walk(), by the shape's constraints.
  sqlite3_stmt* walk_stmt(const IndexQueryShape& q) {
    const std::string key =
        fmt::format("walk/{}/{}/{}{}{}", q.authors, q.kinds, int(q.since), int(q.until), int(q.expiration));
    if (auto it = query_stmts.find(key); it != query_stmts.end()) return it->second.get();
    const auto max_vars = static_cast<std::size_t>(sqlite3_limit(db.get(), SQLITE_LIMIT_VARIABLE_NUMBER, -1));
    if (q.authors + q.kinds + 5 > max_vars)
      refuse("querying: too many authors/kinds in one query (limit " + std::to_string(max_vars) + " values)");
    if (query_stmts.size() >= 64) query_stmts.clear();
    const std::string sql = tag_walk_sql(q, columns(q).c_str());
    auto [it, inserted] = query_stmts.emplace(key, prepare(sql, "preparing a tag walk", SQLITE_PREPARE_PERSISTENT));
    return it->second.get();
  }

  // query() for a limited filter with one tag condition (tag_walk_fits()): one walk per tag part and
  // value, each up to the limit, merged. An event matching two values is listed once.
  std::vector<IndexRow> tag_walk(const PreparedQuery& pq, const IndexQuery& q, std::int64_t last_seq) {
    sqlite3_stmt* s = walk_stmt(pq.shape);
    const auto& [name, values] = pq.tags.front();
    std::vector<std::int64_t> keys;
    for (const auto& v : values) keys.push_back(index_tag(name, v).key);
    std::vector<IndexRow> out;
    for (std::int64_t part = 0; part <= (last_seq >> kTagPartBits); ++part) {
      for (const std::int64_t key : keys) {
        StmtUse use(s);
        int p = 1;
        bind_i64(s, p++, part);
        bind_i64(s, p++, key);
        for (const auto& a : pq.authors) bind_id(s, p++, a);
        for (const auto k : pq.kinds) bind_i64(s, p++, k);
        if (q.since) bind_i64(s, p++, *q.since);
        if (q.until) bind_i64(s, p++, *q.until);
        bind_i64(s, p, to_i64(*q.limit));
        while (step(s, "walking the tag index")) out.push_back(read_row(s));
      }
    }
    std::sort(out.begin(), out.end(), [](const IndexRow& a, const IndexRow& b) {
      return a.created_at != b.created_at ? a.created_at > b.created_at : a.id < b.id;
    });
    out.erase(std::unique(out.begin(), out.end(), [](const IndexRow& a, const IndexRow& b) { return a.seq == b.seq; }),
              out.end());
    if (out.size() > *q.limit) out.resize(*q.limit);
    return out;
  }

  // The cached statement for query()'s shape (which constraints, how many values each).
  sqlite3_stmt* query_stmt(const IndexQueryShape& q) {
    std::string key = fmt::format("{}/{}/{}/{}{}{}{}{}", q.ids, q.authors, q.kinds, int(q.since), int(q.until),
                                  int(q.limit), int(q.count), int(q.expiration));
    std::size_t values = q.ids + q.authors + q.kinds + 3;
    for (const std::size_t n : q.tag_values) {
      key += fmt::format("/t{}", n);
      values += n + 1;
    }
    if (auto it = query_stmts.find(key); it != query_stmts.end()) return it->second.get();
    const auto max_vars = static_cast<std::size_t>(sqlite3_limit(db.get(), SQLITE_LIMIT_VARIABLE_NUMBER, -1));
    if (values > max_vars)
      refuse("querying: too many ids/authors/kinds/tag values in one query (limit " + std::to_string(max_vars) +
             " values)");
    const auto max_branches = static_cast<std::size_t>(sqlite3_limit(db.get(), SQLITE_LIMIT_COMPOUND_SELECT, -1));
    const std::string sql = index_query_sql(q, columns(q).c_str(), kRowFrom, max_branches);
    // Many different list lengths would grow the cache without bound; shapes are cheap to re-prepare.
    if (query_stmts.size() >= 64) query_stmts.clear();
    auto [it, inserted] = query_stmts.emplace(key, prepare(sql, "preparing a query", SQLITE_PREPARE_PERSISTENT));
    return it->second.get();
  }
};

ArchiveIndex::ArchiveIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ArchiveIndex::~ArchiveIndex() = default;
ArchiveIndex::ArchiveIndex(ArchiveIndex&&) noexcept = default;
ArchiveIndex& ArchiveIndex::operator=(ArchiveIndex&&) noexcept = default;

ArchiveIndex ArchiveIndex::open(const std::filesystem::path& path, Mode mode, std::size_t cache_kib) {
  auto impl = std::make_unique<Impl>();
  std::error_code ec;
  // Absolute, so a relative name such as "file:x.db" is never taken for a URI (Debian enables URIs).
  const auto abs = std::filesystem::absolute(path, ec);
  impl->path = (ec ? path : abs).string();
  impl->mode = mode;
  impl->cache_kib = cache_kib;

  if (mode == Mode::read_only && !std::filesystem::exists(abs, ec))
    throw std::runtime_error("index " + impl->path + ": opening read-only: no such file");

  // NOMUTEX: one connection per thread (see the header), so SQLite's per-connection mutex is pure cost.
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |= mode == Mode::read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(impl->path.c_str(), &raw, flags, nullptr);
  impl->db.reset(raw);  // SQLite may hand back a handle even on failure; it must still be closed
  impl->check(rc, mode == Mode::read_only ? "opening read-only" : "opening");
  sqlite3_extended_result_codes(raw, 1);

  impl->configure_connection();
  if (mode == Mode::read_write) {
    impl->pending_table = Int64RowsTable::attach(raw, kPendingTagsTable, {"part", "key", "created_at", "seq", "kind"});
    impl->open_writer();
  } else {
    impl->check_identity(/*allow_empty=*/false);
  }
  return ArchiveIndex(std::move(impl));
}

std::uint64_t ArchiveIndex::map_file(std::uint64_t bytes) {
  const std::string pragma = "PRAGMA mmap_size = " + std::to_string(bytes);
  const auto granted = impl_->pragma_int(pragma.c_str());
  return granted > 0 ? static_cast<std::uint64_t>(granted) : 0;
}

void ArchiveIndex::begin() {
  if (impl_->mode == Mode::read_only) impl_->refuse("beginning a transaction: index is read-only");
  impl_->run(kBegin);
}
void ArchiveIndex::commit() {
  impl_->flush_tags();
  impl_->run(kCommit);
}
void ArchiveIndex::rollback() {
  impl_->pending_tags.clear();
  impl_->fids.clear();
  impl_->aids.clear();
  impl_->pubkeys.clear();
  impl_->file_names.clear();
  impl_->run(kRollback);
}

bool ArchiveIndex::insert_if_absent(const IndexRow& row) {
  if (contains(row.id)) return false;
  insert_new(row);
  return true;
}

std::int64_t ArchiveIndex::insert_new(const IndexRow& row) {
  auto& im = *impl_;
  const std::int64_t aid = im.author_id(row.pubkey);
  const std::int64_t fid = im.file_id(row.file_name);
  StmtUse use(im.stmt(kInsert));
  sqlite3_stmt* s = use.get();
  im.bind_id(s, 1, row.id);
  im.bind_i64(s, 2, row.kind);
  im.bind_i64(s, 3, aid);
  im.bind_i64(s, 4, row.created_at);
  im.bind_i64(s, 5, fid);
  im.bind_i64(s, 6, to_i64(row.member_offset));
  const int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) im.fail(rc, "inserting event " + to_hex(row.id));
  const std::int64_t seq = sqlite3_last_insert_rowid(im.db.get());
  im.insert_tags(row.tags, row.created_at, seq, row.kind);
  return seq;
}

bool ArchiveIndex::contains(const Id32& id) {
  auto& im = *impl_;
  StmtUse use(im.stmt(kContains));
  im.bind_id(use.get(), 1, id);
  return im.step(use.get(), kSlotWhat[kContains]);
}

std::optional<IndexRow> ArchiveIndex::get(const Id32& id) {
  auto& im = *impl_;
  StmtUse use(im.stmt(kGet));
  im.bind_id(use.get(), 1, id);
  if (!im.step(use.get(), kSlotWhat[kGet])) return std::nullopt;
  return im.read_row(use.get());
}

std::vector<IndexRow> ArchiveIndex::query(const IndexQuery& q) {
  auto& im = *impl_;
  const PreparedQuery pq(q, /*count=*/false);
  if (tag_walk_fits(pq.shape)) return im.tag_walk(pq, q, last_seq());
  StmtUse use(im.query_stmt(pq.shape));
  im.bind_query(use.get(), pq, q);
  std::vector<IndexRow> out;
  while (im.step(use.get(), "querying events")) out.push_back(im.read_row(use.get()));
  return out;
}

std::uint64_t ArchiveIndex::count(const IndexQuery& q) {
  auto& im = *impl_;
  const PreparedQuery pq(q, /*count=*/true);
  StmtUse use(im.query_stmt(pq.shape));
  im.bind_query(use.get(), pq, q);
  if (!im.step(use.get(), "counting events")) return 0;
  return static_cast<std::uint64_t>(sqlite3_column_int64(use.get(), 0));
}

std::int64_t ArchiveIndex::last_seq() {
  auto& im = *impl_;
  StmtUse use(im.stmt(kLastSeq));
  if (!im.step(use.get(), kSlotWhat[kLastSeq])) return 0;
  return sqlite3_column_int64(use.get(), 0);
}

std::vector<IndexRow> ArchiveIndex::rows_after(std::int64_t after, std::size_t max) {
  auto& im = *impl_;
  StmtUse use(im.stmt(kRowsAfter));
  im.bind_i64(use.get(), 1, after);
  im.bind_i64(use.get(), 2, to_i64(max));
  std::vector<IndexRow> out;
  while (im.step(use.get(), kSlotWhat[kRowsAfter])) out.push_back(im.read_row(use.get()));
  return out;
}

void ArchiveIndex::set_relay_cursor(const std::string& url, std::int64_t cursor) {
  auto& im = *impl_;
  StmtUse use(im.stmt(kSetCursor));
  im.bind_text(use.get(), 1, url);
  im.bind_i64(use.get(), 2, cursor);
  im.step(use.get(), "setting the cursor of " + url);
}

std::map<std::string, std::int64_t> ArchiveIndex::relay_cursors() {
  auto& im = *impl_;
  StmtPtr s = im.prepare("SELECT url, cursor FROM relay_cursors", "reading relay cursors", 0);
  std::map<std::string, std::int64_t> out;
  while (im.step(s.get(), "reading relay cursors")) out[im.column_text(s.get(), 0)] = sqlite3_column_int64(s.get(), 1);
  return out;
}

namespace {
IndexTag tag_key(char name, const Id32& h) {
  std::uint64_t low56 = 0;
  for (std::size_t i = 0; i < 7; ++i) low56 = (low56 << 8) | h[i];
  // Names are ASCII letters, so the key is positive and sorts by name first.
  return {static_cast<std::int64_t>((std::uint64_t{static_cast<unsigned char>(name)} << 56) | low56)};
}
std::span<const std::uint8_t> bytes_of(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }
}  // namespace

IndexTag index_tag(char name, std::string_view value) { return tag_key(name, sha256(bytes_of(value))); }
IndexTag index_tag(char name, std::string_view value, Sha256Hasher& hasher) { return tag_key(name, hasher.digest(bytes_of(value))); }

std::vector<IndexTag> index_tags(const Event& ev, Sha256Hasher& hasher) {
  std::vector<IndexTag> out;
  for (const Tag& t : ev.tags) {
    if (t.size() < 2 || t[0].size() != 1) continue;
    const char c = t[0][0];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) out.push_back(index_tag(c, t[1], hasher));
  }
  if (const auto at = expiration_of(ev)) {
    // Clamped into 56 bits: a time before 1970 has passed, one after 2^56 s never comes.
    const auto clamped = std::clamp<std::int64_t>(*at, 0, static_cast<std::int64_t>(kLow56));
    out.push_back({(std::int64_t{kExpirationTagName} << 56) | clamped});
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}
std::vector<IndexTag> index_tags(const Event& ev) {
  Sha256Hasher hasher;
  return index_tags(ev, hasher);
}

std::uint64_t ArchiveIndex::count() {  // all rows
  auto& im = *impl_;
  StmtUse use(im.stmt(kCount));
  if (!im.step(use.get(), kSlotWhat[kCount])) return 0;
  return static_cast<std::uint64_t>(sqlite3_column_int64(use.get(), 0));
}

void ArchiveIndex::set_file(const FileRow& row) {
  auto& im = *impl_;
  StmtUse use(im.stmt(kSetFile));
  im.bind_text(use.get(), 1, row.file_name);
  im.bind_i64(use.get(), 2, to_i64(row.committed_bytes));
  im.bind_i64(use.get(), 3, to_i64(row.events));
  im.step(use.get(), "recording file " + row.file_name);
}

namespace {
FileRow read_file_row(sqlite3_stmt* s) {
  FileRow r;
  const auto* name = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  if (name) r.file_name.assign(name, static_cast<std::size_t>(sqlite3_column_bytes(s, 0)));
  r.committed_bytes = static_cast<std::uint64_t>(sqlite3_column_int64(s, 1));
  r.events = static_cast<std::uint64_t>(sqlite3_column_int64(s, 2));
  return r;
}
}  // namespace

std::optional<FileRow> ArchiveIndex::file(const std::string& file_name) {
  auto& im = *impl_;
  StmtUse use(im.stmt(kGetFile));
  im.bind_text(use.get(), 1, file_name);
  if (!im.step(use.get(), kSlotWhat[kGetFile])) return std::nullopt;
  return read_file_row(use.get());
}

std::vector<FileRow> ArchiveIndex::files() {
  auto& im = *impl_;
  StmtUse use(im.stmt(kListFiles));
  std::vector<FileRow> out;
  while (im.step(use.get(), kSlotWhat[kListFiles])) out.push_back(read_file_row(use.get()));
  return out;
}

void ArchiveIndex::set_meta(const std::string& key, const std::string& value) {
  auto& im = *impl_;
  StmtUse use(im.stmt(kSetMeta));
  im.bind_text(use.get(), 1, key);
  im.bind_text(use.get(), 2, value);
  im.step(use.get(), "setting metadata " + key);
}

std::optional<std::string> ArchiveIndex::meta(const std::string& key) {
  auto& im = *impl_;
  StmtUse use(im.stmt(kGetMeta));
  im.bind_text(use.get(), 1, key);
  if (!im.step(use.get(), kSlotWhat[kGetMeta])) return std::nullopt;
  return im.column_text(use.get(), 0);
}


// ---- Aggregates for `proton-beam stats` (declared in the marked section at the end of the class). Rare
// calls, so their statements are prepared per call and not cached in a slot. ----

std::vector<ArchiveIndex::KindCount> ArchiveIndex::kind_counts() {
  auto& im = *impl_;
  // GROUP BY kind walks events_kind_created (a covering index), never the table.
  StmtPtr s = im.prepare("SELECT kind, count(*) FROM events GROUP BY kind ORDER BY 2 DESC, 1 ASC",
                         "counting events by kind", 0);
  std::vector<KindCount> out;
  while (im.step(s.get(), "counting events by kind"))
    out.push_back({sqlite3_column_int(s.get(), 0), static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 1))});
  return out;
}

std::uint64_t ArchiveIndex::distinct_authors() {
  auto& im = *impl_;
  // Reads events_author_created in order, so distinct values are adjacent: no temp B-tree. (Not the
  // authors table: it may keep an author whose rows a repair erased.)
  StmtPtr s = im.prepare("SELECT count(DISTINCT aid) FROM events", "counting distinct authors", 0);
  if (!im.step(s.get(), "counting distinct authors")) return 0;
  return static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 0));
}

std::optional<std::pair<std::int64_t, std::int64_t>> ArchiveIndex::created_at_range() {
  auto& im = *impl_;
  // Two subqueries: SQLite's min/max shortcut (one probe of events_created) only applies to a lone
  // min() or max(); `SELECT min(x), max(x)` would scan.
  StmtPtr s = im.prepare("SELECT (SELECT min(created_at) FROM events), (SELECT max(created_at) FROM events)",
                         "reading the created_at range", 0);
  if (!im.step(s.get(), "reading the created_at range") || sqlite3_column_type(s.get(), 0) == SQLITE_NULL)
    return std::nullopt;
  return std::pair{sqlite3_column_int64(s.get(), 0), sqlite3_column_int64(s.get(), 1)};
}

// ---- Verify and repair (archive_verify.cpp, archive_repair.cpp). Statements are prepared per call:
// these run once per file or per repair, never per event on a hot path. ----

void ArchiveIndex::for_each_row_created_between(std::int64_t since, std::int64_t until,
                                                const std::function<void(const IndexRow&)>& fn) {
  auto& im = *impl_;
  StmtPtr s = im.prepare(std::string("SELECT ") + kRowColumns + " FROM " + kRowFrom +
                             " WHERE events.created_at BETWEEN ?1 AND ?2",
                         "preparing a created_at range scan", 0);
  im.bind_i64(s.get(), 1, since);
  im.bind_i64(s.get(), 2, until);
  while (im.step(s.get(), "scanning a created_at range")) fn(im.read_row(s.get()));
}

void ArchiveIndex::put_rows(std::span<const IndexRow> rows) {
  auto& im = *impl_;
  // An existing row is updated in place: its seq, and so its tag rows, stay valid (a row's id fixes its
  // event, so kind, pubkey, created_at and tags cannot differ; only where it is stored can).
  StmtPtr s = im.prepare(
      "UPDATE events SET kind = ?2, aid = ?3, created_at = ?4, fid = ?5, member_offset = ?6 "
      "WHERE substr(id, 1, 8) = substr(?1, 1, 8) AND id = ?1",
      "preparing a row update", 0);
  for (const IndexRow& row : rows) {
    {
      const std::int64_t aid = im.author_id(row.pubkey);
      const std::int64_t fid = im.file_id(row.file_name);
      StmtUse use(s.get());
      im.bind_id(s.get(), 1, row.id);
      im.bind_i64(s.get(), 2, row.kind);
      im.bind_i64(s.get(), 3, aid);
      im.bind_i64(s.get(), 4, row.created_at);
      im.bind_i64(s.get(), 5, fid);
      im.bind_i64(s.get(), 6, to_i64(row.member_offset));
      im.step(s.get(), "updating event " + to_hex(row.id));
      if (sqlite3_changes(im.db.get()) == 1) continue;
    }
    insert_if_absent(row);
  }
}

std::uint64_t ArchiveIndex::erase_rows(std::span<const Id32> ids) {
  auto& im = *impl_;
  StmtPtr s = im.prepare("DELETE FROM events WHERE substr(id, 1, 8) = substr(?1, 1, 8) AND id = ?1",
                         "preparing a row deletion", 0);
  std::uint64_t erased = 0;
  for (const Id32& id : ids) {
    StmtUse use(s.get());
    im.bind_id(s.get(), 1, id);
    im.step(s.get(), "deleting event " + to_hex(id));
    erased += static_cast<std::uint64_t>(sqlite3_changes(im.db.get()));
  }
  return erased;
}

void ArchiveIndex::erase_file(const std::string& file_name) {
  auto& im = *impl_;
  StmtPtr s = im.prepare("DELETE FROM files WHERE file_name = ?1", "preparing a file deletion", 0);
  im.bind_text(s.get(), 1, file_name);
  im.step(s.get(), "forgetting file " + file_name);
}

void ArchiveIndex::erase_meta(const std::string& key) {
  auto& im = *impl_;
  StmtPtr s = im.prepare("DELETE FROM meta WHERE key = ?1", "preparing a metadata deletion", 0);
  im.bind_text(s.get(), 1, key);
  im.step(s.get(), "deleting metadata " + key);
}

std::map<std::string, std::int64_t> read_any_relay_cursors(const std::filesystem::path& path) {
  std::map<std::string, std::int64_t> out;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return out;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(std::filesystem::absolute(path, ec).c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  const DbPtr db(raw);
  if (rc != SQLITE_OK) return out;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(raw, "SELECT url, cursor FROM relay_cursors", -1, &s, nullptr) != SQLITE_OK) return out;
  const StmtPtr stmt(s);
  while (sqlite3_step(s) == SQLITE_ROW) {
    const auto* url = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    if (url) out[url] = sqlite3_column_int64(s, 1);
  }
  return out;
}

// ---- Bulk load (index rebuild) ---------------------------------------------------------------------

void ArchiveIndex::begin_bulk_load(unsigned sorter_threads) {
  // Rows go into the bare table first; the query indexes are built once at the end (one sort each
  // instead of a random insert per row), and nothing is synced until then. SQLite's sorter may use
  // helper threads for those sorts (PRAGMA threads counts the extra ones).
  impl_->exec(std::string(kDropSecondaryIndexes).c_str(), "dropping the query indexes for a bulk load");
  const std::string pragmas = "PRAGMA synchronous = OFF; PRAGMA temp_store = FILE; PRAGMA threads = " +
                              std::to_string(sorter_threads > 0 ? sorter_threads - 1 : 0) + ";";
  impl_->exec(pragmas.c_str(), "configuring a bulk load");
}

void ArchiveIndex::insert_tags(std::int64_t seq, std::int64_t created_at, std::int32_t kind,
                               std::span<const IndexTag> tags) {
  impl_->insert_tags(tags, created_at, seq, kind);
}

void ArchiveIndex::import_tags(const std::filesystem::path& scratch) {
  auto& im = *impl_;
  {
    // Bound, not spliced into the SQL: a path may hold quotes.
    const std::string path = scratch.string();  // bound SQLITE_STATIC: must outlive the step
    const StmtPtr attach = im.prepare("ATTACH DATABASE ?1 AS pb_scratch", "attaching the scratch tag index", 0);
    im.bind_text(attach.get(), 1, path);
    im.step(attach.get(), "attaching the scratch tag index");
  }
  try {
    // `SELECT *` from a table of the same shape into an empty one: the form SQLite's transfer
    // optimization needs.
    im.exec("BEGIN IMMEDIATE; INSERT INTO main.tags SELECT * FROM pb_scratch.tags; COMMIT;",
            "copying the scratch tag index");
  } catch (...) {
    sqlite3_exec(im.db.get(), "ROLLBACK", nullptr, nullptr, nullptr);  // may have nothing to roll back
    sqlite3_exec(im.db.get(), "DETACH DATABASE pb_scratch", nullptr, nullptr, nullptr);
    throw;
  }
  im.exec("DETACH DATABASE pb_scratch", "detaching the scratch tag index");
}

void ArchiveIndex::end_bulk_load() {
  impl_->exec(std::string(kSecondaryIndexes).c_str(), "building the query indexes");
  impl_->exec("PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; PRAGMA threads = 0;", "ending a bulk load");
}

}  // namespace pb
