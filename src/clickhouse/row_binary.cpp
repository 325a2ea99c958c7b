#include "clickhouse/row_binary.hpp"

#include <charconv>
#include <span>

#include "nostr/hex.hpp"

namespace pb::ch {

void append_leb128(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void append_string(std::string& out, std::string_view s) {
  append_leb128(out, s.size());
  out.append(s);
}

namespace {

// Two's complement little-endian in `bytes` bytes: right for signed and unsigned columns once the value
// is known to be in the column's range.
void append_int(std::string& out, std::int64_t v, int bytes) {
  auto u = static_cast<std::uint64_t>(v);
  for (int i = 0; i < bytes; ++i) {
    out.push_back(static_cast<char>(u & 0xff));
    u >>= 8;
  }
}

void append_hex_column(std::string& out, std::span<const std::uint8_t> bytes, HexColumn col) {
  if (!col.fixed) append_leb128(out, bytes.size() * 2);
  append_hex(out, bytes);
}

}  // namespace

std::optional<IntColumn> parse_int_column(std::string_view type) {
  if (type == "DateTime") return IntColumn{4, 0, 4294967295};
  const bool is_unsigned = type.starts_with("UInt");
  if (!is_unsigned && !type.starts_with("Int")) return std::nullopt;
  const std::string_view digits = type.substr(is_unsigned ? 4 : 3);
  int bits = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  if (bits != 8 && bits != 16 && bits != 32 && bits != 64) return std::nullopt;
  IntColumn col{bits / 8, 0, 0};
  if (is_unsigned) {
    col.min = 0;
    col.max = bits == 64 ? INT64_MAX : static_cast<std::int64_t>((std::uint64_t{1} << bits) - 1);
  } else {
    col.min = bits == 64 ? INT64_MIN : -(std::int64_t{1} << (bits - 1));
    col.max = bits == 64 ? INT64_MAX : (std::int64_t{1} << (bits - 1)) - 1;
  }
  return col;
}

std::optional<HexColumn> parse_hex_column(std::string_view type, std::size_t hex_len) {
  if (type == "String") return HexColumn{false};
  if (type == "FixedString(" + std::to_string(hex_len) + ")") return HexColumn{true};
  return std::nullopt;
}

std::optional<std::string_view> check_event(const Event& ev, const RowLayout& layout) {
  // The brief: kind is an integer in 0..65535, created_at a non-negative integer.
  if (ev.kind < 0 || ev.kind > 65535 || ev.kind < layout.kind.min || ev.kind > layout.kind.max) return "kind";
  if (ev.created_at < 0 || ev.created_at < layout.created_at.min || ev.created_at > layout.created_at.max)
    return "created_at";
  return std::nullopt;
}

void encode_event(std::string& out, const Event& ev, const RowLayout& layout) {
  append_hex_column(out, ev.id, layout.id);
  append_hex_column(out, ev.pubkey, layout.pubkey);
  append_int(out, ev.created_at, layout.created_at.bytes);
  append_int(out, ev.kind, layout.kind.bytes);
  append_leb128(out, ev.tags.size());
  for (const Tag& tag : ev.tags) {
    append_leb128(out, tag.size());
    for (const std::string& value : tag) append_string(out, value);
  }
  append_string(out, ev.content);
  append_hex_column(out, ev.sig, layout.sig);
}

}  // namespace pb::ch
