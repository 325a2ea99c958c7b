#include "nostr/json_parse.hpp"

#include <limits>

#include <fmt/format.h>

#include "nostr/hex.hpp"

namespace pb {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

enum Field : unsigned { kId, kPubkey, kCreatedAt, kKind, kTags, kContent, kSig, kFieldCount };
constexpr std::string_view kFieldNames[kFieldCount] = {"id", "pubkey", "created_at", "kind",
                                                       "tags", "content", "sig"};

int field_of(std::string_view key) {
  for (unsigned f = 0; f < kFieldCount; ++f)
    if (key == kFieldNames[f]) return static_cast<int>(f);
  return -1;
}

Rejection reject(RejectCategory c, std::string msg) { return {c, std::move(msg)}; }

// simdjson 3.0 rejects lone surrogate escapes itself (STRING_ERROR); this re-check of the decoded text
// keeps the rule if a simdjson version ever decodes one into bytes that are not UTF-8.
bool decoded_utf8_ok(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

std::optional<Rejection> read_hex(element v, Field f, std::span<std::uint8_t> out) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS)
    return reject(RejectCategory::invalid_field, fmt::format("{} must be a string", kFieldNames[f]));
  if (!decode_lower_hex(s, out))
    return reject(RejectCategory::invalid_field,
                  fmt::format("{} must be {} lowercase hex characters", kFieldNames[f], out.size() * 2));
  return std::nullopt;
}

std::optional<Rejection> read_created_at(element v, std::int64_t& out) {
  switch (v.type()) {
    case element_type::INT64: {
      const std::int64_t x = v.get_int64().value_unsafe();
      if (x < 0) return reject(RejectCategory::invalid_field, "created_at must not be negative");
      out = x;
      return std::nullopt;
    }
    case element_type::UINT64:
      return reject(RejectCategory::invalid_field, "created_at is too large (above 2^63-1)");
    default:
      return reject(RejectCategory::invalid_field, "created_at must be a non-negative integer");
  }
}

std::optional<Rejection> read_kind(element v, std::int32_t& out) {
  switch (v.type()) {
    case element_type::INT64: {
      const std::int64_t x = v.get_int64().value_unsafe();
      if (x < 0 || x > 65535)
        return reject(RejectCategory::invalid_kind, fmt::format("kind {} is outside 0..65535", x));
      out = static_cast<std::int32_t>(x);
      return std::nullopt;
    }
    case element_type::UINT64:
      return reject(RejectCategory::invalid_kind,
                    fmt::format("kind {} is outside 0..65535", v.get_uint64().value_unsafe()));
    case element_type::DOUBLE:
      return reject(RejectCategory::invalid_kind, "kind must be an integer in 0..65535, not a fraction or exponent");
    default:
      return reject(RejectCategory::invalid_field, "kind must be a number");
  }
}

std::optional<Rejection> read_tags(element v, std::vector<Tag>& tags) {
  simdjson::dom::array outer;
  if (v.get_array().get(outer) != simdjson::SUCCESS)
    return reject(RejectCategory::invalid_tag_value, "tags must be an array");
  tags.resize(outer.size());
  std::size_t t = 0;
  for (element tag_el : outer) {
    simdjson::dom::array inner;
    if (tag_el.get_array().get(inner) != simdjson::SUCCESS)
      return reject(RejectCategory::invalid_tag_value, fmt::format("tags[{}] must be an array", t));
    Tag& tag = tags[t];
    tag.resize(inner.size());
    std::size_t i = 0;
    for (element val : inner) {
      std::string_view s;
      if (val.get_string().get(s) != simdjson::SUCCESS)
        return reject(RejectCategory::invalid_tag_value, fmt::format("tags[{}][{}] must be a string", t, i));
      if (!decoded_utf8_ok(s))
        return reject(RejectCategory::invalid_tag_value,
                      fmt::format("tags[{}][{}] is not valid UTF-8 (lone surrogate escape)", t, i));
      tag[i++].assign(s);
    }
    ++t;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Rejection> EventParser::parse(std::string_view json, Event& out) {
  id_parsed_ = false;
  element root;
  if (auto err = parser_.parse(json.data(), json.size()).get(root); err != simdjson::SUCCESS) {
    if (err == simdjson::STRING_ERROR)  // simdjson's word for a bad escape, lone surrogates included
      return reject(RejectCategory::invalid_json, "malformed JSON: invalid string escape (e.g. a lone surrogate \\ud800)");
    if (err == simdjson::UTF8_ERROR) return reject(RejectCategory::invalid_json, "malformed JSON: the line is not valid UTF-8");
    return reject(RejectCategory::invalid_json, fmt::format("malformed JSON: {}", simdjson::error_message(err)));
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS)
    return reject(RejectCategory::invalid_json, "the line is JSON but not an object");

  element fields[kFieldCount];
  unsigned seen = 0;
  for (auto [key, value] : obj) {
    const int f = field_of(key);
    if (f < 0) continue;  // unknown extra fields are ignored
    if (seen & (1u << f))
      return reject(RejectCategory::invalid_field, fmt::format("duplicate key \"{}\"", kFieldNames[f]));
    seen |= 1u << f;
    fields[f] = value;
  }
  // The id first, so that every later rejection can name the event in the log.
  if (seen & (1u << kId)) {
    if (auto r = read_hex(fields[kId], kId, out.id)) return r;
    id_parsed_ = true;
  }
  for (unsigned f = 0; f < kFieldCount; ++f)
    if (!(seen & (1u << f)))
      return reject(RejectCategory::invalid_field, fmt::format("missing field \"{}\"", kFieldNames[f]));
  if (auto r = read_hex(fields[kPubkey], kPubkey, out.pubkey)) return r;
  if (auto r = read_hex(fields[kSig], kSig, out.sig)) return r;
  if (auto r = read_created_at(fields[kCreatedAt], out.created_at)) return r;
  if (auto r = read_kind(fields[kKind], out.kind)) return r;
  std::string_view content;
  if (fields[kContent].get_string().get(content) != simdjson::SUCCESS)
    return reject(RejectCategory::invalid_field, "content must be a string");
  if (!decoded_utf8_ok(content))
    return reject(RejectCategory::invalid_field, "content is not valid UTF-8 (lone surrogate escape)");
  out.content.assign(content);
  return read_tags(fields[kTags], out.tags);
}

}  // namespace pb
