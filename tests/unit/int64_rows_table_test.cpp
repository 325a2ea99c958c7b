// Int64RowsTable: the virtual table that feeds a batch of rows from memory to INSERT ... SELECT.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "archive/int64_rows_table.hpp"

namespace pb {
namespace {

struct Db {
  sqlite3* db = nullptr;
  Db() { EXPECT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK); }
  ~Db() { sqlite3_close_v2(db); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  int exec(const std::string& sql) { return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr); }
  // The first column of the first row as text ("" when there is no row); fails the test on an error.
  std::string text(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::string out;
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_text(s, 0)) out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(s);
    return out;
  }
};

TEST(Int64RowsTable, InsertSelectCopiesEveryRowInOrder) {
  Db d;
  std::vector<std::int64_t> values = {1, 2, 3, 4, 5, 6};
  const auto table = Int64RowsTable::attach(d.db, "rows", {"a", "b"});
  table->show(values);
  ASSERT_EQ(d.exec("CREATE TABLE t(a INTEGER, b INTEGER)"), SQLITE_OK);
  ASSERT_EQ(d.exec("INSERT INTO t SELECT a, b FROM rows"), SQLITE_OK) << sqlite3_errmsg(d.db);
  EXPECT_EQ(d.text("SELECT group_concat(a || ':' || b, ',') FROM (SELECT * FROM t ORDER BY rowid)"), "1:2,3:4,5:6");
  EXPECT_EQ(d.text("SELECT group_concat(rowid, ',') FROM rows"), "0,1,2");
}

TEST(Int64RowsTable, ShowsWhatItWasLastGivenExactly) {
  Db d;
  const auto table = Int64RowsTable::attach(d.db, "rows", {"v"});
  EXPECT_EQ(d.text("SELECT count(*) FROM rows"), "0");  // nothing shown yet
  const std::vector<std::int64_t> extremes = {std::numeric_limits<std::int64_t>::min(), -1, 0,
                                              std::numeric_limits<std::int64_t>::max()};
  table->show(extremes);
  EXPECT_EQ(d.text("SELECT group_concat(v, ',') FROM rows"), "-9223372036854775808,-1,0,9223372036854775807");
  EXPECT_EQ(d.text("SELECT typeof(v) FROM rows LIMIT 1"), "integer");
  table->show({});
  EXPECT_EQ(d.text("SELECT count(*) FROM rows"), "0");
}

TEST(Int64RowsTable, IsReadOnlyAndNeverStoredInTheSchema) {
  Db d;
  const auto table = Int64RowsTable::attach(d.db, "rows", {"a"});
  EXPECT_NE(d.exec("INSERT INTO rows(a) VALUES (1)"), SQLITE_OK);
  EXPECT_NE(d.exec("DELETE FROM rows"), SQLITE_OK);
  EXPECT_EQ(d.text("SELECT count(*) FROM sqlite_schema"), "0");
  Db other;  // another connection has no such table
  EXPECT_NE(other.exec("SELECT * FROM rows"), SQLITE_OK);
}

}  // namespace
}  // namespace pb
