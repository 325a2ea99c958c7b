#include "s3/index_snapshot.hpp"

#include <sqlite3.h>

#include <memory>
#include <stdexcept>

#include <fmt/format.h>

namespace pb::s3 {
namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

Db open_db(const std::filesystem::path& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK)
    throw std::runtime_error(fmt::format("cannot open {}: {}", path.string(), raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  sqlite3_busy_timeout(db.get(), 10'000);
  return db;
}

}  // namespace

void snapshot_sqlite(const std::filesystem::path& src, const std::filesystem::path& dest) {
  std::filesystem::remove(dest);
  const Db from = open_db(src, SQLITE_OPEN_READONLY);
  const Db to = open_db(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3_backup* b = sqlite3_backup_init(to.get(), "main", from.get(), "main");
  if (!b) throw std::runtime_error(fmt::format("cannot snapshot {}: {}", src.string(), sqlite3_errmsg(to.get())));
  int rc = SQLITE_OK;
  do {
    rc = sqlite3_backup_step(b, -1);  // all pages in one step: a reader's consistent view
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(50);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) throw std::runtime_error(fmt::format("cannot snapshot {}: {}", src.string(), sqlite3_errstr(rc)));
}

}  // namespace pb::s3
