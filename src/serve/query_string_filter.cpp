#include "serve/query_string_filter.hpp"

#include <charconv>

#include "nostr/hex.hpp"
#include "serve/wire.hpp"

namespace pb::serve {
namespace {

bool is_integer(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  if (s.empty() || s.size() > 19) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// A value as JSON: integers raw (for kinds/since/until/limit), anything else as a string.
void append_value(std::string& out, std::string_view v, bool numeric) {
  if (numeric && is_integer(v))
    out += v;
  else
    append_json_string(out, v);
}

std::vector<std::string_view> split_commas(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    const auto comma = s.find(',');
    out.push_back(s.substr(0, comma));
    if (comma == std::string_view::npos) return out;
    s.remove_prefix(comma + 1);
  }
}

}  // namespace

std::string cursor_text(const ScanKey& key) { return std::to_string(key.created_at) + ":" + to_hex(key.id); }

std::optional<ScanKey> parse_cursor(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  ScanKey k;
  const auto r = std::from_chars(text.data(), text.data() + colon, k.created_at);
  if (r.ec != std::errc() || r.ptr != text.data() + colon) return std::nullopt;
  if (!decode_lower_hex(text.substr(colon + 1), k.id)) return std::nullopt;
  return k;
}

QueryStringFilter filter_from_query(const std::vector<std::pair<std::string, std::string>>& query) {
  QueryStringFilter out;
  std::string json = "{";
  for (const auto& [key, value] : query) {
    if (key == "cursor") {
      out.cursor = parse_cursor(value);
      if (!out.cursor) out.error = "invalid: malformed cursor";
      continue;
    }
    if (json.size() > 1) json += ',';
    append_json_string(json, key);
    json += ':';
    const bool scalar = key == "since" || key == "until" || key == "limit";
    if (scalar) {
      append_value(json, value, true);
      continue;
    }
    json += '[';
    bool first = true;
    for (auto item : split_commas(value)) {
      if (item.empty() && value.empty()) break;  // "ids=" is an empty list
      if (!first) json += ',';
      first = false;
      append_value(json, item, key == "kinds");
    }
    json += ']';
  }
  json += '}';
  if (out.error) return out;
  FilterParse p = parse_filter_json(json);
  if (p.error)
    out.error = p.error->with_prefix();
  else
    out.filter = std::move(*p.filter);
  return out;
}

}  // namespace pb::serve
