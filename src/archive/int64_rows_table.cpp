#include "archive/int64_rows_table.hpp"

#include <stdexcept>

namespace pb {
namespace {

// SQLite's objects with our state after them; SQLite only ever sees the base structs.
struct RowsVtab : sqlite3_vtab {
  const Int64RowsTable* table = nullptr;
};
struct RowsCursor : sqlite3_vtab_cursor {
  std::size_t row = 0;
};

const Int64RowsTable& table_of(sqlite3_vtab_cursor* c) { return *static_cast<RowsVtab*>(c->pVtab)->table; }

int rows_connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char**) {
  const auto* table = static_cast<const Int64RowsTable*>(aux);
  if (const int rc = sqlite3_declare_vtab(db, table->declaration().c_str()); rc != SQLITE_OK) return rc;
  auto vtab = std::make_unique<RowsVtab>();
  vtab->table = table;
  *out = vtab.release();  // owned by SQLite until rows_disconnect
  return SQLITE_OK;
}

int rows_disconnect(sqlite3_vtab* v) {
  delete static_cast<RowsVtab*>(v);  // NOLINT: handed back by SQLite, allocated in rows_connect
  return SQLITE_OK;
}

// The only plan: a full scan in row order.
int rows_best_index(sqlite3_vtab* v, sqlite3_index_info* info) {
  info->estimatedCost = static_cast<double>(static_cast<RowsVtab*>(v)->table->rows()) + 1;
  info->estimatedRows = static_cast<sqlite3_int64>(static_cast<RowsVtab*>(v)->table->rows());
  return SQLITE_OK;
}

int rows_open(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  *out = std::make_unique<RowsCursor>().release();  // owned by SQLite until rows_close
  return SQLITE_OK;
}

int rows_close(sqlite3_vtab_cursor* c) {
  delete static_cast<RowsCursor*>(c);  // NOLINT: handed back by SQLite, allocated in rows_open
  return SQLITE_OK;
}

int rows_filter(sqlite3_vtab_cursor* c, int, const char*, int, sqlite3_value**) {
  static_cast<RowsCursor*>(c)->row = 0;
  return SQLITE_OK;
}

int rows_next(sqlite3_vtab_cursor* c) {
  ++static_cast<RowsCursor*>(c)->row;
  return SQLITE_OK;
}

int rows_eof(sqlite3_vtab_cursor* c) { return static_cast<RowsCursor*>(c)->row >= table_of(c).rows(); }

int rows_column(sqlite3_vtab_cursor* c, sqlite3_context* ctx, int column) {
  sqlite3_result_int64(ctx, table_of(c).at(static_cast<RowsCursor*>(c)->row, static_cast<std::size_t>(column)));
  return SQLITE_OK;
}

int rows_rowid(sqlite3_vtab_cursor* c, sqlite3_int64* out) {
  *out = static_cast<sqlite3_int64>(static_cast<RowsCursor*>(c)->row);
  return SQLITE_OK;
}

// xCreate null: an eponymous-only table, usable by its module name and never stored in the schema.
constexpr sqlite3_module kModule = {
    .iVersion = 0,
    .xCreate = nullptr,
    .xConnect = rows_connect,
    .xBestIndex = rows_best_index,
    .xDisconnect = rows_disconnect,
    .xDestroy = rows_disconnect,
    .xOpen = rows_open,
    .xClose = rows_close,
    .xFilter = rows_filter,
    .xNext = rows_next,
    .xEof = rows_eof,
    .xColumn = rows_column,
    .xRowid = rows_rowid,
    .xUpdate = nullptr,  // read-only
    .xBegin = nullptr,
    .xSync = nullptr,
    .xCommit = nullptr,
    .xRollback = nullptr,
    .xFindFunction = nullptr,
    .xRename = nullptr,
    .xSavepoint = nullptr,
    .xRelease = nullptr,
    .xRollbackTo = nullptr,
    .xShadowName = nullptr,
};

}  // namespace

Int64RowsTable::Int64RowsTable(std::vector<std::string> columns) : columns_(std::move(columns)) {
  declaration_ = "CREATE TABLE x(";
  for (std::size_t i = 0; i < columns_.size(); ++i) declaration_ += (i ? ", " : "") + columns_[i] + " INTEGER";
  declaration_ += ")";
}

std::unique_ptr<Int64RowsTable> Int64RowsTable::attach(sqlite3* db, const std::string& name,
                                                       std::vector<std::string> columns) {
  if (columns.empty()) throw std::invalid_argument("Int64RowsTable: no columns");
  std::unique_ptr<Int64RowsTable> table(new Int64RowsTable(std::move(columns)));  // private constructor
  if (const int rc = sqlite3_create_module(db, name.c_str(), &kModule, table.get()); rc != SQLITE_OK)
    throw std::runtime_error("registering the virtual table " + name + ": " + sqlite3_errstr(rc));
  return table;
}

void Int64RowsTable::show(std::span<const std::int64_t> values) { values_ = values; }

}  // namespace pb
