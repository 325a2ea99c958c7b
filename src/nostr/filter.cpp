#include "nostr/filter.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "nostr/canonical.hpp"
#include "nostr/hex.hpp"

namespace pb {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

template <class T>
void sort_unique(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

FilterError invalid(std::string message) { return {FilterError::Kind::invalid, std::move(message)}; }
FilterError unsupported(std::string message) { return {FilterError::Kind::unsupported, std::move(message)}; }

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// A JSON integer in [lo, hi]; 1.0 and 1e3 are not integers in the JSON text.
std::optional<std::int64_t> integer_in(element e, std::int64_t lo, std::int64_t hi) {
  std::int64_t v = 0;
  if (e.type() == element_type::INT64) {
    v = e.get_int64().value_unsafe();
  } else if (e.type() == element_type::UINT64) {
    return std::nullopt;  // above 2^63-1: out of every range we accept
  } else {
    return std::nullopt;
  }
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

std::optional<FilterError> parse_hex_list(element e, std::string_view key, std::vector<Id32>& out) {
  simdjson::dom::array arr;
  if (e.get_array().get(arr)) return invalid(fmt::format("\"{}\" must be an array", key));
  for (element item : arr) {
    std::string_view s;
    Id32 id{};
    if (item.get_string().get(s) || !decode_lower_hex(s, id))
      return invalid(fmt::format("\"{}\" must hold 64-character lowercase hex strings", key));
    out.push_back(id);
  }
  sort_unique(out);
  return std::nullopt;
}

std::optional<FilterError> parse_kinds(element e, std::vector<std::int32_t>& out) {
  simdjson::dom::array arr;
  if (e.get_array().get(arr)) return invalid("\"kinds\" must be an array");
  for (element item : arr) {
    const auto k = integer_in(item, 0, 65535);
    if (!k) return invalid("\"kinds\" must hold integers from 0 to 65535");
    out.push_back(static_cast<std::int32_t>(*k));
  }
  sort_unique(out);
  return std::nullopt;
}

std::optional<FilterError> parse_tag(element e, std::string_view key, Filter& f) {
  if (key.size() != 2 || !is_letter(key[1]))
    return unsupported(fmt::format("tag filter \"{}\": only single-letter tags (#a-z, #A-Z) are indexed", key));
  simdjson::dom::array arr;
  if (e.get_array().get(arr)) return invalid(fmt::format("\"{}\" must be an array of strings", key));
  TagCondition cond{key[1], {}};
  for (element item : arr) {
    std::string_view s;
    if (item.get_string().get(s)) return invalid(fmt::format("\"{}\" must be an array of strings", key));
    cond.values.emplace_back(s);
  }
  sort_unique(cond.values);
  f.tags.push_back(std::move(cond));
  return std::nullopt;
}

std::optional<FilterError> parse_time(element e, std::string_view key, std::optional<std::int64_t>& out) {
  const auto v = integer_in(e, 0, std::numeric_limits<std::int64_t>::max());
  if (!v) return invalid(fmt::format("\"{}\" must be a non-negative integer", key));
  out = *v;
  return std::nullopt;
}

std::optional<FilterError> parse_member(std::string_view key, element value, Filter& f) {
  if (key == "ids") {
    if (f.ids) return invalid("duplicate key \"ids\"");
    return parse_hex_list(value, key, f.ids.emplace());
  }
  if (key == "authors") {
    if (f.authors) return invalid("duplicate key \"authors\"");
    return parse_hex_list(value, key, f.authors.emplace());
  }
  if (key == "kinds") {
    if (f.kinds) return invalid("duplicate key \"kinds\"");
    return parse_kinds(value, f.kinds.emplace());
  }
  if (key == "since" || key == "until" || key == "limit") {
    auto& slot = key == "since" ? f.since : key == "until" ? f.until : f.limit;
    if (slot) return invalid(fmt::format("duplicate key \"{}\"", key));
    return parse_time(value, key, slot);
  }
  if (!key.empty() && key[0] == '#') {
    if (key.size() == 2 && std::any_of(f.tags.begin(), f.tags.end(), [&](const auto& t) { return t.name == key[1]; }))
      return invalid(fmt::format("duplicate key \"{}\"", key));
    return parse_tag(value, key, f);
  }
  return unsupported(fmt::format("filter key \"{}\" is not supported", key));
}

bool tag_matches(const TagCondition& cond, const Event& ev) {
  for (const auto& tag : ev.tags) {
    if (tag.size() < 2 || tag[0].size() != 1 || tag[0][0] != cond.name) continue;
    if (std::binary_search(cond.values.begin(), cond.values.end(), tag[1])) return true;
  }
  return false;
}

bool tag_matches(const TagCondition& cond, const EventHead& ev) {
  for (const TagHead& tag : ev.tags) {
    if (!tag.has_value || tag.name.size() != 1 || tag.name[0] != cond.name) continue;
    if (std::binary_search(cond.values.begin(), cond.values.end(), tag.value)) return true;
  }
  return false;
}

// Every condition but the tags'.
bool fields_match(const Filter& f, const Id32& id, const Id32& pubkey, std::int32_t kind, std::int64_t created_at) {
  if (f.ids && !std::binary_search(f.ids->begin(), f.ids->end(), id)) return false;
  if (f.authors && !std::binary_search(f.authors->begin(), f.authors->end(), pubkey)) return false;
  if (f.kinds && !std::binary_search(f.kinds->begin(), f.kinds->end(), kind)) return false;
  if (f.since && created_at < *f.since) return false;
  return !f.until || created_at <= *f.until;
}

void append_id_list(std::string& out, std::string_view key, const std::vector<Id32>& ids) {
  out += fmt::format("\"{}\":[", key);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += '"';
    append_hex(out, ids[i]);
    out += '"';
  }
  out += "],";
}

}  // namespace

std::string FilterError::with_prefix() const {
  return std::string(kind == Kind::invalid ? "invalid: " : "unsupported: ") + message;
}

FilterParse parse_filter(element json) {
  simdjson::dom::object obj;
  if (json.get_object().get(obj)) return {std::nullopt, invalid("a filter must be a JSON object")};
  Filter f;
  for (auto [key, value] : obj)
    if (auto err = parse_member(key, value, f)) return {std::nullopt, std::move(err)};
  std::sort(f.tags.begin(), f.tags.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return {std::move(f), std::nullopt};
}

FilterParse parse_filter_json(std::string_view json) {
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(json.data(), json.size(), true).get(root)) return {std::nullopt, invalid("malformed JSON")};
  return parse_filter(root);
}

bool Filter::matches(const Event& ev) const {
  return fields_match(*this, ev.id, ev.pubkey, ev.kind, ev.created_at) &&
         std::all_of(tags.begin(), tags.end(), [&](const TagCondition& cond) { return tag_matches(cond, ev); });
}

bool Filter::matches(const EventHead& ev) const {
  return fields_match(*this, ev.id, ev.pubkey, ev.kind, ev.created_at) &&
         std::all_of(tags.begin(), tags.end(), [&](const TagCondition& cond) { return tag_matches(cond, ev); });
}

bool Filter::is_empty_set() const {
  if ((ids && ids->empty()) || (authors && authors->empty()) || (kinds && kinds->empty())) return true;
  if (since && until && *since > *until) return true;
  return std::any_of(tags.begin(), tags.end(), [](const auto& t) { return t.values.empty(); });
}

std::string Filter::to_json() const {
  std::string out = "{";
  if (ids) append_id_list(out, "ids", *ids);
  if (authors) append_id_list(out, "authors", *authors);
  if (kinds) out += fmt::format("\"kinds\":[{}],", fmt::join(*kinds, ","));
  for (const auto& cond : tags) {
    out += fmt::format("\"#{}\":[", cond.name);
    for (std::size_t i = 0; i < cond.values.size(); ++i) {
      if (i) out += ',';
      append_json_string(out, cond.values[i]);
    }
    out += "],";
  }
  if (since) out += fmt::format("\"since\":{},", *since);
  if (until) out += fmt::format("\"until\":{},", *until);
  if (limit) out += fmt::format("\"limit\":{},", *limit);
  if (out.back() == ',') out.pop_back();
  out += '}';
  return out;
}

bool matches_any(std::span<const Filter> filters, const Event& ev) {
  return std::any_of(filters.begin(), filters.end(), [&](const Filter& f) { return f.matches(ev); });
}

}  // namespace pb
