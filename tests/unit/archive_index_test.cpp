#include "archive/index.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "archive/index_query_sql.hpp"
#include "nostr/hex.hpp"

namespace pb {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards (the index leaves -wal/-shm files next to index.db).
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("pb_index_test_" + std::to_string(rd()) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

Id32 id_from(std::mt19937_64& rng) {
  Id32 id{};
  for (auto& b : id) b = static_cast<std::uint8_t>(rng());
  return id;
}

Id32 id_of(std::uint8_t fill) {
  Id32 id{};
  id.fill(fill);
  return id;
}

IndexRow make_row(const Id32& id, const Id32& pubkey, std::int64_t created_at, std::int32_t kind) {
  IndexRow r;
  r.id = id;
  r.pubkey = pubkey;
  r.created_at = created_at;
  r.kind = kind;
  r.file_name = "2025_09_27.pb.gz";
  r.member_offset = 4096;
  return r;
}

void expect_same_row(const IndexRow& a, const IndexRow& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.pubkey, b.pubkey);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.file_name, b.file_name);
  EXPECT_EQ(a.member_offset, b.member_offset);
}

// Raw SQLite access for checks the API does not expose.
struct RawDb {
  explicit RawDb(const fs::path& p, int flags = SQLITE_OPEN_READWRITE) {
    if (sqlite3_open_v2(p.string().c_str(), &db, flags, nullptr) != SQLITE_OK)
      throw std::runtime_error(sqlite3_errmsg(db));
  }
  ~RawDb() { sqlite3_close_v2(db); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error(msg);
    }
  }
  // The first column of the first row, as text ("" for none or NULL).
  std::string scalar(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) throw std::runtime_error(sqlite3_errmsg(db));
    std::string v;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0)) v = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return v;
  }
  sqlite3* db = nullptr;
};

TEST(ArchiveIndexTest, InsertIfAbsentDetectsDuplicates) {
  TempDir dir;
  auto idx = ArchiveIndex::open(dir.path() / "index.db", ArchiveIndex::Mode::read_write);
  const auto row = make_row(id_of(1), id_of(2), 100, 1);
  EXPECT_EQ(idx.count(), 0u);
  EXPECT_FALSE(idx.contains(row.id));
  EXPECT_TRUE(idx.insert_if_absent(row));
  EXPECT_TRUE(idx.contains(row.id));
  // Same id with different contents: still a duplicate, and the first row is kept.
  auto other = row;
  other.kind = 7;
  other.file_name = "2025_09_28.pb.gz";
  EXPECT_FALSE(idx.insert_if_absent(other));
  EXPECT_EQ(idx.count(), 1u);
  EXPECT_EQ(idx.get(row.id)->kind, 1);
  EXPECT_TRUE(idx.insert_if_absent(make_row(id_of(3), id_of(2), 100, 1)));
  EXPECT_EQ(idx.count(), 2u);
}

TEST(ArchiveIndexTest, GetRoundTripsEveryField) {
  TempDir dir;
  auto idx = ArchiveIndex::open(dir.path() / "index.db", ArchiveIndex::Mode::read_write);
  std::mt19937_64 rng(7);
  IndexRow a = make_row(id_from(rng), id_from(rng), 0, 0);
  a.file_name = "1970_01_01.pb.gz";
  a.member_offset = 0;
  IndexRow b = make_row(id_from(rng), id_from(rng), 4'102'444'800, 65535);  // year 2100
  b.member_offset = (1ULL << 40) + 12345;  // beyond 32 bits
  IndexRow c = make_row(id_of(0x00), id_of(0xff), 1'700'000'000, 30023);
  for (const auto& r : {a, b, c}) ASSERT_TRUE(idx.insert_if_absent(r));
  for (const auto& r : {a, b, c}) {
    const auto got = idx.get(r.id);
    ASSERT_TRUE(got.has_value());
    expect_same_row(*got, r);
  }
  EXPECT_FALSE(idx.get(id_of(0x42)).has_value());
}

// The id index holds the first 8 bytes only; ids sharing them must stay distinct rows in every call.
TEST(ArchiveIndexTest, IdsSharingTheIndexedPrefixStayDistinct) {
  TempDir dir;
  auto idx = ArchiveIndex::open(dir.path() / "index.db", ArchiveIndex::Mode::read_write);
  Id32 a = id_of(0x11), b = id_of(0x11), c = id_of(0x11);
  b[31] = 0x22;
  c[8] = 0x33;
  idx.begin();
  ASSERT_TRUE(idx.insert_if_absent(make_row(a, id_of(1), 100, 1)));
  EXPECT_FALSE(idx.contains(b));
  ASSERT_TRUE(idx.insert_if_absent(make_row(b, id_of(2), 200, 7)));
  EXPECT_FALSE(idx.insert_if_absent(make_row(b, id_of(3), 300, 1)));
  idx.commit();
  EXPECT_FALSE(idx.contains(c));
  EXPECT_EQ(idx.get(a)->kind, 1);
  EXPECT_EQ(idx.get(b)->kind, 7);
  EXPECT_EQ(idx.get(b)->pubkey, id_of(2));
  IndexQuery q;
  q.ids = {b, c};
  ASSERT_EQ(idx.query(q).size(), 1u);
  EXPECT_EQ(idx.query(q)[0].id, b);
  idx.begin();
  EXPECT_EQ(idx.erase_rows(std::vector<Id32>{a, c}), 1u);
  idx.commit();
  EXPECT_FALSE(idx.contains(a));
  EXPECT_TRUE(idx.contains(b));
}

// Random rows from a few authors, kinds and a narrow time range (so created_at ties happen), then many random
// queries compared with a brute-force filter over the same rows: every constraint alone and combined.
TEST(ArchiveIndexTest, QueryMatchesBruteForceFilter) {
  TempDir dir;
  auto idx = ArchiveIndex::open(dir.path() / "index.db", ArchiveIndex::Mode::read_write);
  std::mt19937_64 rng(20251127);
  std::vector<Id32> authors;
  for (int i = 0; i < 12; ++i) authors.push_back(id_from(rng));
  const std::vector<std::int32_t> kinds = {0, 1, 3, 7, 9735, 30023};
  std::vector<IndexRow> rows;
  idx.begin();
  for (int i = 0; i < 1500; ++i) {
    auto r = make_row(id_from(rng), authors[rng() % authors.size()], 1000 + static_cast<std::int64_t>(rng() % 300),
                      kinds[rng() % kinds.size()]);
    r.member_offset = rng() % 100000;
    ASSERT_TRUE(idx.insert_if_absent(r));
    rows.push_back(r);
  }
  idx.commit();

  auto brute = [&](const IndexQuery& q) {
    std::vector<IndexRow> out;
    auto any_of = [](const auto& list, const auto& v) {
      return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
    };
    for (const auto& r : rows) {
      if (!any_of(q.ids, r.id) || !any_of(q.authors, r.pubkey) || !any_of(q.kinds, r.kind)) continue;
      if (q.since && r.created_at < *q.since) continue;
      if (q.until && r.created_at > *q.until) continue;
      out.push_back(r);
    }
    std::sort(out.begin(), out.end(), [](const IndexRow& a, const IndexRow& b) {
      return a.created_at != b.created_at ? a.created_at > b.created_at : a.id < b.id;
    });
    if (q.limit && out.size() > *q.limit) out.resize(*q.limit);
    return out;
  };

  int nonempty = 0;
  for (int trial = 0; trial < 400; ++trial) {
    IndexQuery q;
    const unsigned mask = static_cast<unsigned>(rng());
    if (mask & 1) {  // ids: mostly present, some absent, sometimes duplicated
      for (int n = 1 + static_cast<int>(rng() % 5); n > 0; --n)
        q.ids.push_back(rng() % 4 ? rows[rng() % rows.size()].id : id_from(rng));
      if (rng() % 3 == 0) q.ids.push_back(q.ids.front());
    }
    if (mask & 2)
      for (int n = 1 + static_cast<int>(rng() % 3); n > 0; --n) q.authors.push_back(authors[rng() % authors.size()]);
    if (mask & 4)
      for (int n = 1 + static_cast<int>(rng() % 3); n > 0; --n) q.kinds.push_back(kinds[rng() % kinds.size()]);
    if (mask & 8) q.since = 1000 + static_cast<std::int64_t>(rng() % 320) - 10;
    if (mask & 16) q.until = 1000 + static_cast<std::int64_t>(rng() % 320) - 10;
    if (mask & 32) q.limit = rng() % 40;
    const auto want = brute(q);
    const auto got = idx.query(q);
    ASSERT_EQ(got.size(), want.size()) << "trial " << trial << " mask " << (mask & 63);
    for (std::size_t i = 0; i < got.size(); ++i) {
      SCOPED_TRACE("trial " + std::to_string(trial) + " row " + std::to_string(i));
      expect_same_row(got[i], want[i]);
    }
    nonempty += !want.empty();
  }
  EXPECT_GT(nonempty, 200);  // the generator must actually exercise matches
}

// Lists longer than SQLite's compound-select limit (500) take the single-IN path; both must agree.
TEST(ArchiveIndexTest, QueryWithLongAuthorListAndLimit) {
  TempDir dir;
  auto idx = ArchiveIndex::open(dir.path() / "index.db", ArchiveIndex::Mode::read_write);
  std::mt19937_64 rng(5);
  std::vector<Id32> authors;
  for (int i = 0; i < 700; ++i) authors.push_back(id_from(rng));
  std::vector<IndexRow> rows;
  idx.begin();
  for (int i = 0; i < 3000; ++i) {
    const std::int64_t t = 5000 + static_cast<std::int64_t>(rng() % 50);
    rows.push_back(make_row(id_from(rng), authors[rng() % authors.size()], t, static_cast<std::int32_t>(rng() % 3)));
    ASSERT_TRUE(idx.insert_if_absent(rows.back()));
  }
  idx.commit();
  for (std::size_t n : {2u, 40u, 499u, 500u, 501u, 700u}) {
    IndexQuery q;
    q.authors.assign(authors.begin(), authors.begin() + static_cast<std::ptrdiff_t>(n));
    q.limit = 25;
    std::vector<IndexRow> want;
    for (const auto& r : rows)
      if (std::find(q.authors.begin(), q.authors.end(), r.pubkey) != q.authors.end()) want.push_back(r);
    std::sort(want.begin(), want.end(), [](const IndexRow& a, const IndexRow& b) {
      return a.created_at != b.created_at ? a.created_at > b.created_at : a.id < b.id;
    });
    want.resize(std::min<std::size_t>(want.size(), 25));
    const auto got = idx.query(q);
    ASSERT_EQ(got.size(), want.size()) << n << " authors";
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].id, want[i].id) << n << " authors, row " << i;
  }
}

TEST(ArchiveIndexTest, QueryOrdersNewestFirstThenLowestIdAndLimits) {
  TempDir dir;
  auto idx = ArchiveIndex::open(dir.path() / "index.db", ArchiveIndex::Mode::read_write);
  const auto author = id_of(9);
  // Inserted in scrambled order; three share created_at 200.
  for (const auto& [fill, t] : std::vector<std::pair<int, int>>{{5, 200}, {1, 100}, {9, 200}, {3, 300}, {2, 200}})
    ASSERT_TRUE(idx.insert_if_absent(make_row(id_of(static_cast<std::uint8_t>(fill)), author, t, 1)));
  auto ids_of = [](const std::vector<IndexRow>& rows) {
    std::vector<int> out;
    for (const auto& r : rows) out.push_back(r.id[0]);
    return out;
  };
  EXPECT_EQ(ids_of(idx.query({})), (std::vector<int>{3, 2, 5, 9, 1}));
  IndexQuery q;
  q.limit = 3;
  EXPECT_EQ(ids_of(idx.query(q)), (std::vector<int>{3, 2, 5}));
  q.limit = 0;
  EXPECT_TRUE(idx.query(q).empty());
  q.limit.reset();
  q.since = 200;
  q.until = 200;  // both bounds inclusive
  EXPECT_EQ(ids_of(idx.query(q)), (std::vector<int>{2, 5, 9}));
  q.since = 201;
  EXPECT_TRUE(idx.query(q).empty());
}

TEST(ArchiveIndexTest, FilesRoundTripAndUpdate) {
  TempDir dir;
  auto idx = ArchiveIndex::open(dir.path() / "index.db", ArchiveIndex::Mode::read_write);
  EXPECT_TRUE(idx.files().empty());
  EXPECT_FALSE(idx.file("2025_09_27.pb.gz").has_value());
  idx.set_file({"2025_09_28.pb.gz", 10, 1});
  idx.set_file({"2025_09_27.pb.gz", 5'000'000'000ULL, 123456});
  idx.set_file({"2025_09_28.pb.gz", 20, 2});  // update in place
  const auto f = idx.file("2025_09_28.pb.gz");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->committed_bytes, 20u);
  EXPECT_EQ(f->events, 2u);
  const auto all = idx.files();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].file_name, "2025_09_27.pb.gz");  // sorted by name
  EXPECT_EQ(all[0].committed_bytes, 5'000'000'000ULL);
  EXPECT_EQ(all[0].events, 123456u);
  EXPECT_EQ(all[1].file_name, "2025_09_28.pb.gz");
}

TEST(ArchiveIndexTest, MetaRoundTripAndUpdate) {
  TempDir dir;
  auto idx = ArchiveIndex::open(dir.path() / "index.db", ArchiveIndex::Mode::read_write);
  EXPECT_FALSE(idx.meta("commit_seq").has_value());
  idx.set_meta("commit_seq", "1");
  idx.set_meta("commit_seq", "2");
  idx.set_meta("empty", "");
  idx.set_meta("binary", std::string("a\0b", 3));
  EXPECT_EQ(idx.meta("commit_seq"), "2");
  EXPECT_EQ(idx.meta("empty"), "");
  EXPECT_EQ(idx.meta("binary"), std::string("a\0b", 3));
}

TEST(ArchiveIndexTest, RollbackDiscardsRows) {
  TempDir dir;
  auto idx = ArchiveIndex::open(dir.path() / "index.db", ArchiveIndex::Mode::read_write);
  ASSERT_TRUE(idx.insert_if_absent(make_row(id_of(1), id_of(2), 100, 1)));
  idx.begin();
  ASSERT_TRUE(idx.insert_if_absent(make_row(id_of(3), id_of(2), 100, 1)));
  idx.set_file({"2025_09_27.pb.gz", 99, 1});
  idx.set_meta("k", "v");
  EXPECT_TRUE(idx.contains(id_of(3)));  // visible inside the transaction
  idx.rollback();
  EXPECT_FALSE(idx.contains(id_of(3)));
  EXPECT_TRUE(idx.contains(id_of(1)));
  EXPECT_FALSE(idx.file("2025_09_27.pb.gz").has_value());
  EXPECT_FALSE(idx.meta("k").has_value());
  EXPECT_EQ(idx.count(), 1u);
  // The id can be inserted again after the rollback.
  EXPECT_TRUE(idx.insert_if_absent(make_row(id_of(3), id_of(2), 100, 1)));
}

TEST(ArchiveIndexTest, ClosingWithOpenTransactionDiscardsIt) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  {
    auto idx = ArchiveIndex::open(path, ArchiveIndex::Mode::read_write);
    idx.begin();
    ASSERT_TRUE(idx.insert_if_absent(make_row(id_of(1), id_of(2), 100, 1)));
  }
  auto idx = ArchiveIndex::open(path, ArchiveIndex::Mode::read_write);
  EXPECT_EQ(idx.count(), 0u);
}

TEST(ArchiveIndexTest, ReopenKeepsCommittedRows) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  const auto row = make_row(id_of(1), id_of(2), 100, 1);
  {
    auto idx = ArchiveIndex::open(path, ArchiveIndex::Mode::read_write);
    ASSERT_TRUE(idx.insert_if_absent(row));
    idx.set_meta("k", "v");
  }
  auto idx = ArchiveIndex::open(path, ArchiveIndex::Mode::read_write);
  EXPECT_FALSE(idx.insert_if_absent(row));
  EXPECT_EQ(idx.meta("k"), "v");
  auto ro = ArchiveIndex::open(path, ArchiveIndex::Mode::read_only);
  ASSERT_TRUE(ro.get(row.id).has_value());
  expect_same_row(*ro.get(row.id), row);
}

TEST(ArchiveIndexTest, ReadOnlySeesRowsOnlyAfterWriterCommits) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  auto writer = ArchiveIndex::open(path, ArchiveIndex::Mode::read_write);
  auto reader = ArchiveIndex::open(path, ArchiveIndex::Mode::read_only);
  writer.begin();
  ASSERT_TRUE(writer.insert_if_absent(make_row(id_of(1), id_of(2), 100, 1)));
  writer.set_file({"2025_09_27.pb.gz", 42, 1});
  // WAL: the reader is not blocked by the open write transaction, and does not see it.
  EXPECT_FALSE(reader.contains(id_of(1)));
  EXPECT_EQ(reader.count(), 0u);
  EXPECT_FALSE(reader.file("2025_09_27.pb.gz").has_value());
  writer.commit();
  EXPECT_TRUE(reader.contains(id_of(1)));
  EXPECT_EQ(reader.count(), 1u);
  EXPECT_EQ(reader.file("2025_09_27.pb.gz")->committed_bytes, 42u);
  EXPECT_EQ(reader.query({}).size(), 1u);
  // A second writer transaction while the reader keeps reading.
  writer.begin();
  ASSERT_TRUE(writer.insert_if_absent(make_row(id_of(3), id_of(2), 100, 1)));
  EXPECT_EQ(reader.count(), 1u);
  writer.commit();
  EXPECT_EQ(reader.count(), 2u);
}

// A reader through a memory map (serve --index-mmap-mib) answers exactly as one without, commit after
// commit, while the writer grows the file past what was mapped at first.
TEST(ArchiveIndexTest, MappedReaderAnswersAsAnUnmappedOne) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  auto writer = ArchiveIndex::open(path, ArchiveIndex::Mode::read_write);
  auto plain = ArchiveIndex::open(path, ArchiveIndex::Mode::read_only);
  auto mapped = ArchiveIndex::open(path, ArchiveIndex::Mode::read_only);
  EXPECT_EQ(mapped.map_file(64 << 20), std::uint64_t{64} << 20);
  const auto numbered = [](std::uint32_t n) {
    Id32 id{};
    id.fill(0x5a);
    for (int i = 0; i < 4; ++i) id[i] = static_cast<std::uint8_t>((n * 2654435761u) >> (8 * i));
    id[4] = static_cast<std::uint8_t>(n >> 24);
    id[5] = static_cast<std::uint8_t>(n >> 16);
    return id;
  };
  std::uint32_t next = 1;
  for (int commit = 0; commit < 3; ++commit) {
    writer.begin();
    for (int i = 0; i < 3000; ++i, ++next)
      ASSERT_TRUE(writer.insert_if_absent(make_row(numbered(next), id_of(next % 97), 1000 + next % 500, next % 7)));
    writer.set_file({"2025_09_27.pb.gz", next, next});
    writer.commit();
    EXPECT_EQ(mapped.count(), plain.count());
    IndexQuery q;
    q.kinds = {3};
    q.limit = 700;
    const auto a = plain.query(q), b = mapped.query(q);
    ASSERT_EQ(a.size(), b.size());
    ASSERT_FALSE(a.empty());
    for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i].id, b[i].id);
    EXPECT_TRUE(mapped.contains(numbered(next - 1)));
  }
}

TEST(ArchiveIndexTest, ReadOnlyRefusesWrites) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  { auto writer = ArchiveIndex::open(path, ArchiveIndex::Mode::read_write); }
  auto reader = ArchiveIndex::open(path, ArchiveIndex::Mode::read_only);
  EXPECT_THROW(reader.begin(), std::runtime_error);
  EXPECT_THROW(reader.insert_if_absent(make_row(id_of(1), id_of(2), 100, 1)), std::runtime_error);
  EXPECT_THROW(reader.set_meta("k", "v"), std::runtime_error);
  EXPECT_THROW(reader.set_file({"x", 1, 1}), std::runtime_error);
  EXPECT_EQ(reader.count(), 0u);  // still usable after the refusals
}

TEST(ArchiveIndexTest, ReadOnlyOpenOfMissingFileThrows) {
  TempDir dir;
  const auto path = dir.path() / "missing" / "index.db";
  try {
    (void)ArchiveIndex::open(path, ArchiveIndex::Mode::read_only);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("index.db"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(path));  // and nothing was created
}

TEST(ArchiveIndexTest, ReadOnlyOpenOfEmptyDatabaseThrows) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  { RawDb raw(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE); raw.exec("PRAGMA user_version = 0"); }
  EXPECT_THROW((void)ArchiveIndex::open(path, ArchiveIndex::Mode::read_only), std::runtime_error);
}

TEST(ArchiveIndexTest, FutureSchemaVersionIsRefused) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  { auto idx = ArchiveIndex::open(path, ArchiveIndex::Mode::read_write); }
  { RawDb raw(path); raw.exec("PRAGMA user_version = 99"); }
  for (auto mode : {ArchiveIndex::Mode::read_write, ArchiveIndex::Mode::read_only}) {
    try {
      (void)ArchiveIndex::open(path, mode);
      FAIL() << "expected an exception";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
    }
  }
}

TEST(ArchiveIndexTest, ForeignDatabaseIsRefusedAndLeftAlone) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  {
    // The seed's layout: hex TEXT ids and no schema version.
    RawDb raw(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    raw.exec("CREATE TABLE events(id TEXT PRIMARY KEY, kind INTEGER, pubkey TEXT, created_at INTEGER, "
             "file_path TEXT, indexed_at INTEGER)");
  }
  EXPECT_THROW((void)ArchiveIndex::open(path, ArchiveIndex::Mode::read_write), std::runtime_error);
  EXPECT_THROW((void)ArchiveIndex::open(path, ArchiveIndex::Mode::read_only), std::runtime_error);
  RawDb raw(path);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw.db, "PRAGMA journal_mode", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "delete");  // not switched to WAL
  sqlite3_finalize(s);
}

TEST(ArchiveIndexTest, EventsHexViewIsLowercaseHex) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  std::mt19937_64 rng(99);
  std::set<std::pair<std::string, std::string>> want;
  {
    auto idx = ArchiveIndex::open(path, ArchiveIndex::Mode::read_write);
    idx.begin();
    for (int i = 0; i < 50; ++i) {
      const auto row = make_row(id_from(rng), id_from(rng), 1000 + i, 1);
      ASSERT_TRUE(idx.insert_if_absent(row));
      want.emplace(to_hex(row.id), to_hex(row.pubkey));
    }
    idx.commit();
  }
  RawDb raw(path, SQLITE_OPEN_READONLY);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw.db, "SELECT id, pubkey, file_path FROM events_hex", -1, &s, nullptr), SQLITE_OK);
  std::set<std::pair<std::string, std::string>> got;
  while (sqlite3_step(s) == SQLITE_ROW) {
    got.emplace(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)),
                reinterpret_cast<const char*>(sqlite3_column_text(s, 1)));
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 2)), "2025_09_27.pb.gz");
  }
  sqlite3_finalize(s);
  EXPECT_EQ(got, want);  // to_hex is lowercase, so equality also checks the case
  // Lookup by hex as documented for the sqlite3 shell.
  const auto& [hex_id, hex_pub] = *want.begin();
  const std::string sql = "SELECT pubkey FROM events_hex WHERE id = lower('" + hex_id + "')";
  ASSERT_EQ(sqlite3_prepare_v2(raw.db, sql.c_str(), -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), hex_pub);
  sqlite3_finalize(s);
}

TEST(ArchiveIndexTest, SchemaRejectsNonBlobIdsFromOutside) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  { auto idx = ArchiveIndex::open(path, ArchiveIndex::Mode::read_write); }
  RawDb raw(path);
  // A shell user pasting hex text instead of X'..' must not plant rows the API cannot read.
  const std::string cols = "INSERT INTO events(id, kind, aid, created_at, fid, member_offset) ";
  EXPECT_THROW(raw.exec(cols + "VALUES('" + std::string(64, 'a') + "', 1, 1, 1, 1, 0)"), std::runtime_error);
  EXPECT_THROW(raw.exec("INSERT INTO authors(pubkey) VALUES('" + std::string(64, 'b') + "')"), std::runtime_error);
  // The same rows with blobs go in: the CHECKs, not the statements' shapes, refused the ones above.
  EXPECT_NO_THROW(raw.exec(cols + "VALUES(X'" + std::string(64, 'a') + "', 1, 1, 1, 1, 0)"));
  EXPECT_NO_THROW(raw.exec("INSERT INTO authors(pubkey) VALUES(X'" + std::string(64, 'b') + "')"));
}

TEST(ArchiveIndexTest, PragmasAreAsDocumented) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  auto idx = ArchiveIndex::open(path, ArchiveIndex::Mode::read_write);
  RawDb raw(path, SQLITE_OPEN_READONLY);
  auto pragma = [&](const char* sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(raw.db, sql, -1, &s, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(s), SQLITE_ROW);
    std::string v = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return v;
  };
  EXPECT_EQ(pragma("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(pragma("PRAGMA user_version"), "5");
  EXPECT_EQ(pragma("PRAGMA application_id"), std::to_string(0x50424958));
  EXPECT_EQ(pragma("PRAGMA page_size"), "8192");
}

TEST(ArchiveIndexTest, SecondWriterTransactionFailsClearly) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  auto a = ArchiveIndex::open(path, ArchiveIndex::Mode::read_write);
  a.begin();
  RawDb raw(path);
  sqlite3_busy_timeout(raw.db, 0);
  EXPECT_THROW(raw.exec("BEGIN IMMEDIATE"), std::runtime_error);  // the index holds the write lock
  a.commit();
  EXPECT_NO_THROW(raw.exec("BEGIN IMMEDIATE; ROLLBACK"));
}

TEST(ArchiveIndexTest, ErrorsNameTheIndexAndTheOperation) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  auto idx = ArchiveIndex::open(path, ArchiveIndex::Mode::read_write);
  idx.begin();
  try {
    idx.begin();  // nested
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path.filename().string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("beginning a transaction"), std::string::npos) << msg;
    EXPECT_NE(msg.find("within a transaction"), std::string::npos) << msg;  // SQLite's own words
  }
  idx.rollback();
}

TEST(ArchiveIndexTest, MoveKeepsTheConnection) {
  TempDir dir;
  auto a = ArchiveIndex::open(dir.path() / "index.db", ArchiveIndex::Mode::read_write);
  ASSERT_TRUE(a.insert_if_absent(make_row(id_of(1), id_of(2), 100, 1)));
  ArchiveIndex b = std::move(a);
  EXPECT_TRUE(b.contains(id_of(1)));
  auto c = ArchiveIndex::open(dir.path() / "other.db", ArchiveIndex::Mode::read_write);
  c = std::move(b);
  EXPECT_EQ(c.count(), 1u);
}

}  // namespace
}  // namespace pb

namespace pb {
namespace {

// ---- Schema version 2: tag index, count, live-tail sequence, relay cursors --------------------------------

// A row with tags drawn from a small vocabulary (so conditions hit), some values 64-char hex.
IndexRow random_tagged_row(std::mt19937_64& rng, std::size_t i) {
  IndexRow r = make_row(id_from(rng), id_of(static_cast<std::uint8_t>(rng() % 3)),
                        1000 + static_cast<std::int64_t>(rng() % 50), static_cast<std::int32_t>(rng() % 3));
  r.member_offset = i;
  static const std::vector<std::string> values = {"a", "b", "", "x y", to_hex(id_of(7)), to_hex(id_of(8))};
  Event ev;
  for (unsigned t = rng() % 4; t > 0; --t) ev.tags.push_back({std::string(1, "epdT"[rng() % 4]), values[rng() % 6]});
  if (rng() % 5 == 0) ev.tags.push_back({"e"});                 // no value: not indexed
  if (rng() % 5 == 0) ev.tags.push_back({"ee", values[0]});     // two letters: not indexed
  if (rng() % 4 == 0) ev.tags.push_back({"expiration", std::to_string(rng() % 3000)});  // a row of its own kind
  r.tags = index_tags(ev);
  return r;
}

// `values`' keys as the index keys them (IndexTag's hash itself: TagKeysAreStable).
bool oracle_match(const IndexRow& r, const IndexQuery& q) {
  auto in = [](const auto& list, const auto& v) { return list.empty() || std::find(list.begin(), list.end(), v) != list.end(); };
  if (!in(q.ids, r.id) || !in(q.authors, r.pubkey) || !in(q.kinds, r.kind)) return false;
  if ((q.since && r.created_at < *q.since) || (q.until && r.created_at > *q.until)) return false;
  for (const auto& [name, values] : q.tags) {
    bool hit = false;
    for (const IndexTag& t : r.tags)
      for (const auto& v : values) hit = hit || t == index_tag(name, v);
    if (!hit) return false;
  }
  return true;
}

TEST(ArchiveIndexV2, IndexTagsKeepsSingleLetterFirstValuesSortedUnique) {
  Event ev;
  ev.tags = {{"p", "b"}, {"e", "x", "relay"}, {"p", "b"}, {"e"}, {"ee", "y"}, {"1", "z"}, {"T", "t"}, {"p", "a"}};
  std::vector<IndexTag> want = {index_tag('T', "t"), index_tag('e', "x"), index_tag('p', "a"), index_tag('p', "b")};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(index_tags(ev), want);
}

TEST(ArchiveIndexV5, IndexTagsListTheFirstValidExpiration) {
  Event ev;
  ev.tags = {{"expiration", "12a"}, {"expiration"}, {"expiration", "1700000000"}, {"expiration", "5"}, {"e", "x"}};
  const auto tags = index_tags(ev);
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[0], (IndexTag{(std::int64_t{kExpirationTagName} << 56) | 1700000000}));
  EXPECT_TRUE(is_expiration(tags[0]));
  EXPECT_FALSE(is_expiration(tags[1]));
  ev.tags = {{"expiration", "-7"}};  // long past: clamped to 0, still expired
  EXPECT_EQ(index_tags(ev), (std::vector<IndexTag>{{std::int64_t{kExpirationTagName} << 56}}));
  ev.tags = {{"expiration", "x"}};
  EXPECT_TRUE(index_tags(ev).empty());
}

// The expiration is read with the rows; it is no tag value a `#x` query could reach, and tag rows carry kinds.
TEST(ArchiveIndexV5, ExpirationIsReadBySeqAndTagRowsCarryKinds) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  auto idx = ArchiveIndex::open(path, ArchiveIndex::Mode::read_write);
  idx.begin();
  Event ev;
  ev.tags = {{"expiration", "2000"}, {"t", "x"}};
  IndexRow a = make_row(id_of(1), id_of(9), 1000, 7);
  a.tags = index_tags(ev);
  ev.tags = {{"t", "x"}};
  IndexRow b = make_row(id_of(2), id_of(9), 1001, 1);
  b.tags = index_tags(ev);
  const auto seq_a = idx.insert_new(a);
  const auto seq_b = idx.insert_new(b);
  idx.commit();
  IndexQuery all;
  all.with_expiration = true;
  const auto both = idx.query(all);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].seq, seq_b);  // newest first
  EXPECT_EQ(both[0].expiration, std::nullopt);
  EXPECT_EQ(both[1].expiration, 2000);
  all.tags = {{'t', {"x"}}};  // the tag walk reads it too
  all.limit = 5;
  const auto walked = idx.query(all);
  ASSERT_EQ(walked.size(), 2u);
  EXPECT_EQ(walked[1].expiration, 2000);
  EXPECT_EQ(idx.query(IndexQuery{}).at(1).expiration, std::nullopt);  // not asked for
  IndexQuery q;
  q.tags = {{'t', {"x"}}};
  EXPECT_EQ(idx.count(q), 2u);
  q.kinds = {7};
  EXPECT_EQ(idx.count(q), 1u);
  q.limit = 10;
  const auto rows = idx.query(q);  // the tag walk
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, a.id);
  RawDb raw(path);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM tags WHERE kind = 7"), "2");  // t=x and the expiration
  EXPECT_EQ(raw.scalar("SELECT group_concat(name) FROM (SELECT name FROM tags_hex WHERE seq = " +
                       std::to_string(seq_a) + " ORDER BY name)"),
            "expiration,t");
}

// The key is part of the file format: name in the top byte, then the first 7 bytes of SHA-256(value)
// (sha256("x") = 2d711642b726b044...).
TEST(ArchiveIndexV2, TagKeysAreStable) {
  EXPECT_EQ(index_tag('e', "x").key, 0x652d711642b726b0);
  EXPECT_NE(index_tag('p', "x"), index_tag('e', "x"));
  EXPECT_NE(index_tag('e', "y"), index_tag('e', "x"));
  EXPECT_GT(index_tag('z', std::string(64, 'f')).key, 0);
}

// The rows are spread over tag parts 0, 2 and 5 (seq >> kTagPartBits; part 1, 3 and 4 stay empty): the
// sequence is moved forward between batches, as 2^20 events in between would.
TEST(ArchiveIndexV2, TagQueriesAndCountsMatchABruteForceOracle) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  auto idx = ArchiveIndex::open(path, ArchiveIndex::Mode::read_write);
  std::mt19937_64 rng(2);
  std::vector<IndexRow> rows;
  for (const std::int64_t part : {0, 2, 5}) {
    if (part) RawDb(path).exec(fmt::format("UPDATE sqlite_sequence SET seq = {} WHERE name = 'events'", (part << kTagPartBits) + 3));
    idx.begin();
    for (std::size_t i = 0; i < 150; ++i) {
      rows.push_back(random_tagged_row(rng, rows.size()));
      ASSERT_TRUE(idx.insert_if_absent(rows.back()));
    }
    idx.commit();
  }
  {
    RawDb raw(path, SQLITE_OPEN_READONLY);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(raw.db, "SELECT group_concat(part) FROM (SELECT DISTINCT part FROM tags ORDER BY part)", -1, &s, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))), "0,2,5");
    sqlite3_finalize(s);
  }
  const std::vector<std::string> values = {"a", "b", "", "x y", to_hex(id_of(7)), to_hex(id_of(8)), "zz"};
  std::size_t nonempty = 0;
  for (int n = 0; n < 300; ++n) {
    IndexQuery q;
    if (rng() % 3 == 0) q.kinds = {static_cast<std::int32_t>(rng() % 3)};
    if (rng() % 3 == 0) q.authors = {id_of(static_cast<std::uint8_t>(rng() % 3)), id_of(1)};
    if (rng() % 3 == 0) q.since = 1000 + static_cast<std::int64_t>(rng() % 50);
    if (rng() % 3 == 0) q.until = 1000 + static_cast<std::int64_t>(rng() % 50);
    for (unsigned t = 1 + rng() % 2; t > 0; --t) {
      std::vector<std::string> vs;
      for (unsigned k = rng() % 3; k > 0; --k) vs.push_back(values[rng() % values.size()]);
      q.tags.emplace_back("epdT"[rng() % 4], vs);
    }
    if (rng() % 2 == 0) q.limit = 1 + rng() % 10;
    std::vector<IndexRow> want;
    for (const auto& r : rows)
      if (oracle_match(r, q)) want.push_back(r);
    std::sort(want.begin(), want.end(), [](const auto& a, const auto& b) {
      return a.created_at != b.created_at ? a.created_at > b.created_at : a.id < b.id;
    });
    EXPECT_EQ(idx.count(q), want.size());
    if (q.limit && want.size() > *q.limit) want.resize(*q.limit);
    const auto got = idx.query(q);
    ASSERT_EQ(got.size(), want.size()) << "query " << n;
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].id, want[i].id) << "query " << n << " row " << i;
    nonempty += !want.empty();
  }
  EXPECT_GT(nonempty, 50u);  // the random queries are not all trivially empty
}

TEST(ArchiveIndexV2, RowsAfterListsCommittedRowsOnceInInsertionOrder) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  auto w = ArchiveIndex::open(path, ArchiveIndex::Mode::read_write);
  auto r = ArchiveIndex::open(path, ArchiveIndex::Mode::read_only);
  EXPECT_EQ(r.last_seq(), 0);
  w.begin();
  ASSERT_TRUE(w.insert_if_absent(make_row(id_of(9), id_of(1), 50, 1)));
  ASSERT_TRUE(w.insert_if_absent(make_row(id_of(3), id_of(1), 10, 1)));
  EXPECT_TRUE(r.rows_after(0, 10).empty());  // not committed yet
  w.commit();
  const auto first = r.rows_after(0, 10);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].id, id_of(9));  // insertion order, not time or id order
  EXPECT_EQ(first[1].id, id_of(3));
  EXPECT_LT(first[0].seq, first[1].seq);
  const std::int64_t seen = r.last_seq();
  EXPECT_EQ(seen, first[1].seq);
  // A deleted newest row's seq is never handed out again (a live tail must not see an old seq twice).
  w.begin();
  w.erase_rows(std::vector<Id32>{id_of(3)});
  ASSERT_TRUE(w.insert_if_absent(make_row(id_of(4), id_of(1), 20, 1)));
  w.commit();
  const auto later = r.rows_after(seen, 10);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].id, id_of(4));
  EXPECT_GT(later[0].seq, seen);
  EXPECT_EQ(r.rows_after(seen, 0).size(), 0u);
}

TEST(ArchiveIndexV2, PutRowsUpdatesInPlaceKeepingSeqAndTags) {
  TempDir dir;
  auto idx = ArchiveIndex::open(dir.path() / "index.db", ArchiveIndex::Mode::read_write);
  IndexRow row = make_row(id_of(5), id_of(1), 100, 1);
  row.tags = {index_tag('e', "x")};
  idx.begin();
  ASSERT_TRUE(idx.insert_if_absent(row));
  idx.commit();
  const auto seq = idx.get(id_of(5))->seq;
  IndexRow moved = row;
  moved.tags.clear();  // repair may not know them for an existing row
  moved.member_offset = 777;
  IndexRow fresh = make_row(id_of(6), id_of(1), 100, 1);
  fresh.tags = {index_tag('e', "x")};
  idx.begin();
  idx.put_rows(std::vector<IndexRow>{moved, fresh});
  idx.commit();
  EXPECT_EQ(idx.get(id_of(5))->seq, seq);
  EXPECT_EQ(idx.get(id_of(5))->member_offset, 777u);
  IndexQuery q;
  q.tags = {{'e', {"x"}}};
  EXPECT_EQ(idx.count(q), 2u);
}

TEST(ArchiveIndexV2, RelayCursorsCommitWithTheTransaction) {
  TempDir dir;
  auto idx = ArchiveIndex::open(dir.path() / "index.db", ArchiveIndex::Mode::read_write);
  idx.begin();
  idx.set_relay_cursor("wss://a.example/", 100);
  idx.set_relay_cursor("wss://b.example/", 5);
  idx.rollback();
  EXPECT_TRUE(idx.relay_cursors().empty());
  idx.begin();
  idx.set_relay_cursor("wss://a.example/", 100);
  idx.set_relay_cursor("wss://a.example/", 120);
  idx.commit();
  const std::map<std::string, std::int64_t> want = {{"wss://a.example/", 120}};
  EXPECT_EQ(idx.relay_cursors(), want);
}

TEST(ArchiveIndexV2, OlderIndexIsRefusedWithTheUpgradeCommand) {
  for (const int version : {1, 2, 3, 4}) {
  TempDir dir;
  const auto path = dir.path() / "index.db";
  {
    RawDb raw(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    raw.exec("CREATE TABLE events(id BLOB PRIMARY KEY); CREATE TABLE relay_cursors(url TEXT PRIMARY KEY, cursor "
             "INTEGER); INSERT INTO relay_cursors VALUES('wss://r.example/', 42); PRAGMA application_id = "
             "1346521432; PRAGMA user_version = " + std::to_string(version) + ";");
  }
  // index rebuild carries the daemon's cursors over from whatever version the old index has.
  const std::map<std::string, std::int64_t> cursors = {{"wss://r.example/", 42}};
  EXPECT_EQ(read_any_relay_cursors(path), cursors);
  for (auto mode : {ArchiveIndex::Mode::read_write, ArchiveIndex::Mode::read_only}) {
    try {
      (void)ArchiveIndex::open(path, mode);
      ADD_FAILURE() << "a version-1 index was opened";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("proton-beam index rebuild"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("version " + std::to_string(version)), std::string::npos) << e.what();
    }
  }
  }
}

}  // namespace
}  // namespace pb
