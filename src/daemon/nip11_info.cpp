#include "daemon/nip11_info.hpp"

#include <simdjson.h>

namespace pb::daemon {
namespace {

// A valid UTF-8 string cut to at most n bytes, never inside a character.
std::string cut_utf8(std::string_view s, std::size_t n) {
  if (s.size() <= n) return std::string(s);
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

std::string text_field(simdjson::dom::object obj, std::string_view key) {
  std::string_view v;
  if (obj[key].get_string().get(v) != simdjson::SUCCESS) return {};
  return cut_utf8(v, kMaxInfoText);
}

bool true_field(simdjson::dom::object obj, std::string_view key) {
  bool v = false;
  return obj[key].get_bool().get(v) == simdjson::SUCCESS && v;
}

std::optional<std::uint64_t> positive_int(simdjson::dom::object obj, std::string_view key) {
  std::int64_t v = 0;  // get_int64 fails for fractions, strings and anything beyond int64
  if (obj[key].get_int64().get(v) != simdjson::SUCCESS || v <= 0) return std::nullopt;
  return static_cast<std::uint64_t>(v);
}

}  // namespace

std::optional<RelayInfo> parse_relay_info(std::string_view body) {
  if (body.size() > kMaxInfoBytes) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::object doc;
  if (parser.parse(simdjson::padded_string(body)).get_object().get(doc) != simdjson::SUCCESS) return std::nullopt;
  RelayInfo info;
  info.name = text_field(doc, "name");
  info.software = text_field(doc, "software");
  simdjson::dom::object limitation;
  if (doc["limitation"].get_object().get(limitation) == simdjson::SUCCESS) {
    info.max_limit = positive_int(limitation, "max_limit");
    info.auth_required = true_field(limitation, "auth_required");
    info.payment_required = true_field(limitation, "payment_required");
  }
  return info;
}

std::uint64_t clamp_page_size(std::uint64_t page_size, const std::optional<std::uint64_t>& max_limit) {
  return max_limit && *max_limit < page_size ? *max_limit : page_size;
}

}  // namespace pb::daemon
