// Reads the target table's column types from system.columns and derives the RowBinary layout, so
// the importer writes exactly what the table holds (and range-checks integers against it) whether the
// table is ours, an older variant, or a Distributed table over shards.
#pragma once

#include <string>
#include <string_view>

#include "clickhouse/http_client.hpp"
#include "clickhouse/row_binary.hpp"

namespace pb::ch {

// Throws ClickHouseError when the table does not exist, lacks a column the importer writes, or types
// one in a way RowBinary from an event cannot fill.
RowLayout probe_table(HttpClient& client, std::string_view database, std::string_view table);

// 'text' as a ClickHouse string literal (backslash and quote escaped).
std::string sql_string(std::string_view text);
// `name` as a quoted identifier.
std::string sql_identifier(std::string_view name);

// The major.minor of a version() string such as "18.16.1" or "24.3.2.23"; {0,0} if unparsable.
struct ServerVersion {
  int major = 0, minor = 0;
  bool at_least(int ma, int mi) const { return major > ma || (major == ma && minor >= mi); }
};
ServerVersion parse_server_version(std::string_view text);

}  // namespace pb::ch
