#include "clickhouse/table_layout.hpp"

#include <charconv>
#include <map>

#include <fmt/format.h>

namespace pb::ch {

std::string sql_string(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string sql_identifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '\\' || c == '`') out += '\\';
    out += c;
  }
  return out + "`";
}

ServerVersion parse_server_version(std::string_view text) {
  ServerVersion v;
  const char* p = text.data();
  const char* end = p + text.size();
  auto r = std::from_chars(p, end, v.major);
  if (r.ec != std::errc() || r.ptr == end || *r.ptr != '.') return {};
  r = std::from_chars(r.ptr + 1, end, v.minor);
  if (r.ec != std::errc()) return {};
  return v;
}

RowLayout probe_table(HttpClient& client, std::string_view database, std::string_view table) {
  const std::string text = client.execute(
      fmt::format("SELECT name, type FROM system.columns WHERE database = {} AND table = {} FORMAT TabSeparated",
                  sql_string(database), sql_string(table)));
  std::map<std::string, std::string, std::less<>> types;
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    const auto tab = line.find('\t');
    if (tab != std::string_view::npos) types.emplace(line.substr(0, tab), line.substr(tab + 1));
  }
  const std::string where = fmt::format("{}.{}", database, table);
  if (types.empty()) throw ClickHouseError(fmt::format("table {} does not exist (run clickhouse/bootstrap.sh)", where));
  auto type_of = [&](std::string_view column) -> const std::string& {
    auto it = types.find(column);
    if (it == types.end()) throw ClickHouseError(fmt::format("table {} has no column {}", where, column));
    return it->second;
  };
  auto unsupported = [&](std::string_view column) {
    return ClickHouseError(fmt::format("table {}: column {} has type {}, which the importer cannot fill", where,
                                       column, type_of(column)));
  };
  RowLayout layout;
  const auto id = parse_hex_column(type_of("id"), 64);
  const auto pubkey = parse_hex_column(type_of("pubkey"), 64);
  const auto sig = parse_hex_column(type_of("sig"), 128);
  const auto created_at = parse_int_column(type_of("created_at"));
  const auto kind = parse_int_column(type_of("kind"));
  if (!id) throw unsupported("id");
  if (!pubkey) throw unsupported("pubkey");
  if (!sig) throw unsupported("sig");
  if (!created_at) throw unsupported("created_at");
  if (!kind) throw unsupported("kind");
  if (type_of("tags") != "Array(Array(String))") throw unsupported("tags");
  if (type_of("content") != "String") throw unsupported("content");
  layout.id = *id;
  layout.pubkey = *pubkey;
  layout.sig = *sig;
  layout.created_at = *created_at;
  layout.kind = *kind;
  return layout;
}

}  // namespace pb::ch
