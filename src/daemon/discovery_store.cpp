#include "daemon/discovery_store.hpp"

#include <stdexcept>

#include <sqlite3.h>

#include "daemon/discovery_hints.hpp"

namespace pb::daemon {
namespace {

constexpr int kSchemaVersion = 1;
constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS candidates(
  url TEXT PRIMARY KEY,
  mentions INTEGER NOT NULL DEFAULT 0,
  first_seen INTEGER NOT NULL DEFAULT 0,
  last_seen INTEGER NOT NULL DEFAULT 0,
  source TEXT NOT NULL DEFAULT '',
  failures INTEGER NOT NULL DEFAULT 0,
  parked_until INTEGER NOT NULL DEFAULT 0,
  novel_events INTEGER NOT NULL DEFAULT 0,
  connected_seconds INTEGER NOT NULL DEFAULT 0,
  active_seconds INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '');
)";
constexpr const char* kUpsert =
    "INSERT OR REPLACE INTO candidates(url, mentions, first_seen, last_seen, source, failures, parked_until, "
    "novel_events, connected_seconds, active_seconds, last_error) VALUES(?,?,?,?,?,?,?,?,?,?,?)";
constexpr const char* kSelect =
    "SELECT url, mentions, first_seen, last_seen, source, failures, parked_until, novel_events, "
    "connected_seconds, active_seconds, last_error FROM candidates ORDER BY url LIMIT ?";

using Stmt = std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)>;

std::string text_at(sqlite3_stmt* s, int col) {
  const auto* p = sqlite3_column_text(s, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, col))) : std::string();
}

sqlite3* open_db(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    throw std::runtime_error(path.string() + ": " + msg);
  }
  return db;
}

}  // namespace

std::string sources_text(std::uint8_t sources) {
  const bool nip65 = sources & static_cast<std::uint8_t>(HintSource::nip65);
  const bool hint = sources & static_cast<std::uint8_t>(HintSource::hint);
  return nip65 && hint ? "nip65,hint" : nip65 ? "nip65" : hint ? "hint" : "";
}

std::uint8_t sources_from_text(std::string_view text) {
  std::uint8_t out = 0;
  if (text.find("nip65") != std::string_view::npos) out |= static_cast<std::uint8_t>(HintSource::nip65);
  if (text.find("hint") != std::string_view::npos) out |= static_cast<std::uint8_t>(HintSource::hint);
  return out;
}

CandidateStore::CandidateStore(const std::filesystem::path& path) : path_(path), db_(open_db(path), sqlite3_close) {
  sqlite3_busy_timeout(db_.get(), 5000);
  exec("PRAGMA synchronous = NORMAL;");  // rollback journal: one file beside index.db, no -wal/-shm
  Stmt v(nullptr, sqlite3_finalize);
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(), "PRAGMA user_version", -1, &raw, nullptr) != SQLITE_OK)
    throw std::runtime_error(path_.string() + ": " + sqlite3_errmsg(db_.get()));
  v.reset(raw);
  const int version = sqlite3_step(raw) == SQLITE_ROW ? sqlite3_column_int(raw, 0) : 0;
  if (version > kSchemaVersion)
    throw std::runtime_error(path_.string() + ": schema version " + std::to_string(version) + " is newer than this build");
  exec(kSchema);
  exec("PRAGMA user_version = 1;");
}

CandidateStore::~CandidateStore() = default;

void CandidateStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : sqlite3_errmsg(db_.get());
    sqlite3_free(err);
    throw std::runtime_error(path_.string() + ": " + msg);
  }
}

std::vector<Candidate> CandidateStore::load() {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(), kSelect, -1, &raw, nullptr) != SQLITE_OK)
    throw std::runtime_error(path_.string() + ": " + sqlite3_errmsg(db_.get()));
  Stmt s(raw, sqlite3_finalize);
  sqlite3_bind_int64(raw, 1, static_cast<sqlite3_int64>(kMaxCandidates));
  std::vector<Candidate> out;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    Candidate c;
    c.url = text_at(raw, 0);
    c.mentions = static_cast<std::uint64_t>(sqlite3_column_int64(raw, 1));
    c.first_seen = sqlite3_column_int64(raw, 2);
    c.last_seen = sqlite3_column_int64(raw, 3);
    c.sources = sources_from_text(text_at(raw, 4));
    c.failures = static_cast<std::uint32_t>(sqlite3_column_int64(raw, 5));
    c.parked_until = sqlite3_column_int64(raw, 6);
    c.novel_events = static_cast<std::uint64_t>(sqlite3_column_int64(raw, 7));
    c.connected_seconds = sqlite3_column_int64(raw, 8);
    c.active_seconds = sqlite3_column_int64(raw, 9);
    c.last_error = text_at(raw, 10);
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) throw std::runtime_error(path_.string() + ": reading candidates: " + sqlite3_errmsg(db_.get()));
  return out;
}

void CandidateStore::save(const std::vector<const Candidate*>& rows) {
  if (rows.empty()) return;
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(), kUpsert, -1, &raw, nullptr) != SQLITE_OK)
    throw std::runtime_error(path_.string() + ": " + sqlite3_errmsg(db_.get()));
  Stmt s(raw, sqlite3_finalize);
  exec("BEGIN IMMEDIATE");
  try {
    for (const Candidate* c : rows) {
      const std::string source = sources_text(c->sources);
      sqlite3_bind_text(raw, 1, c->url.data(), static_cast<int>(c->url.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int64(raw, 2, static_cast<sqlite3_int64>(c->mentions));
      sqlite3_bind_int64(raw, 3, c->first_seen);
      sqlite3_bind_int64(raw, 4, c->last_seen);
      sqlite3_bind_text(raw, 5, source.data(), static_cast<int>(source.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int64(raw, 6, c->failures);
      sqlite3_bind_int64(raw, 7, c->parked_until);
      sqlite3_bind_int64(raw, 8, static_cast<sqlite3_int64>(c->novel_events));
      sqlite3_bind_int64(raw, 9, c->connected_seconds);
      sqlite3_bind_int64(raw, 10, c->active_seconds);
      sqlite3_bind_text(raw, 11, c->last_error.data(), static_cast<int>(c->last_error.size()), SQLITE_TRANSIENT);
      if (sqlite3_step(raw) != SQLITE_DONE) throw std::runtime_error(path_.string() + ": saving: " + sqlite3_errmsg(db_.get()));
      sqlite3_reset(raw);
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

}  // namespace pb::daemon
