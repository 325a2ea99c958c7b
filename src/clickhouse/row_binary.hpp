// ClickHouse RowBinary encoding of events, shaped by the target table's column types.
//
// RowBinary: integers little-endian in the column's width, String = LEB128 length + bytes,
// FixedString(N) = exactly N bytes, Array = LEB128 count + elements. The server does not range-check
// integers (70000 into UInt16 is stored as 4464), so check_event() must pass before encode_event().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "nostr/event.hpp"

namespace pb::ch {

void append_leb128(std::string& out, std::uint64_t v);
void append_string(std::string& out, std::string_view s);

// An integer column: its width and the values it holds without wrapping (within int64).
struct IntColumn {
  int bytes = 8;
  std::int64_t min = INT64_MIN;
  std::int64_t max = INT64_MAX;
};

// A hex column (id, pubkey, sig): String, or FixedString(N) with N the hex length.
struct HexColumn {
  bool fixed = true;
};

// How each column the importer writes is typed in the target table. The default is clickhouse/schema.sql.
struct RowLayout {
  HexColumn id, pubkey, sig;
  IntColumn created_at{8, INT64_MIN, INT64_MAX};
  IntColumn kind{2, 0, 65535};
};

// Parses a ClickHouse integer type name (Int8..Int64, UInt8..UInt64, DateTime); nullopt otherwise.
std::optional<IntColumn> parse_int_column(std::string_view type);
// Parses the type of a hex column of `hex_len` characters; nullopt if it cannot hold the hex form.
std::optional<HexColumn> parse_hex_column(std::string_view type, std::size_t hex_len);

// Why an event must not be sent (the brief's validity rules intersected with the column ranges), or
// nullopt when it is fine. Reasons are stable category names used in the summary.
std::optional<std::string_view> check_event(const Event& ev, const RowLayout& layout);

// Appends one row: id, pubkey, created_at, kind, tags, content, sig (the importer's column list).
void encode_event(std::string& out, const Event& ev, const RowLayout& layout);

// The column list encode_event writes, for the INSERT statement.
inline constexpr std::string_view kInsertColumns = "(id, pubkey, created_at, kind, tags, content, sig)";

}  // namespace pb::ch
