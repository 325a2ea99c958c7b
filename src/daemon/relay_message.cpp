#include "daemon/relay_message.hpp"

#include <charconv>
#include <optional>

#include "nostr/hex.hpp"

namespace pb::daemon {
namespace {

void skip_ws(std::string_view s, std::size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
}

// A JSON string at s[i] (raw contents between the quotes); advances i past it.
std::optional<std::string_view> scan_string(std::string_view s, std::size_t& i) {
  if (i >= s.size() || s[i] != '"') return std::nullopt;
  const std::size_t start = ++i;
  while (i < s.size() && s[i] != '"') i += (s[i] == '\\') ? 2 : 1;
  if (i >= s.size()) return std::nullopt;
  return s.substr(start, i++ - start);
}

bool expect(std::string_view s, std::size_t& i, char c) {
  skip_ws(s, i);
  if (i >= s.size() || s[i] != c) return false;
  ++i;
  skip_ws(s, i);
  return true;
}

// Skips the JSON value at s[i] (strings with their escapes, nested arrays and objects); false when the
// text ends first. Scalars are not checked here: created_at() checks the one value it reads.
bool skip_value(std::string_view s, std::size_t& i) {
  skip_ws(s, i);
  if (i >= s.size()) return false;
  if (s[i] == '"') return scan_string(s, i).has_value();
  if (s[i] != '[' && s[i] != '{') {
    while (i < s.size() && s[i] != ',' && s[i] != ']' && s[i] != '}') ++i;
    return i < s.size();
  }
  std::size_t depth = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') {
      if (!scan_string(s, i)) return false;
      continue;
    }
    ++i;
    if (c == '[' || c == '{') ++depth;
    else if ((c == ']' || c == '}') && --depth == 0) return true;
  }
  return false;
}

RelayMessage malformed(std::string why) {
  RelayMessage m;
  m.error = std::move(why);
  return m;
}

// ["EVENT", "<sub>", {...}]
RelayMessage split_event(std::string_view s, std::size_t i) {
  RelayMessage m;
  if (!expect(s, i, ',')) return malformed("EVENT without a subscription id");
  auto sub = scan_string(s, i);
  if (!sub) return malformed("EVENT subscription id is not a string");
  if (!expect(s, i, ',')) return malformed("EVENT without an event");
  std::size_t end = s.size();
  while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\n' || s[end - 1] == '\r' || s[end - 1] == '\t')) --end;
  if (end <= i || s[end - 1] != ']') return malformed("EVENT message is not a closed array");
  --end;
  while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\n' || s[end - 1] == '\r' || s[end - 1] == '\t')) --end;
  m.type = RelayMsgType::event;
  m.sub = std::string(*sub);
  m.event = s.substr(i, end - i);
  return m;
}

std::string string_at(simdjson::dom::array arr, std::size_t idx) {
  std::string_view v;
  if (arr.at(idx).get_string().get(v) != simdjson::SUCCESS) return {};
  return std::string(v);
}

}  // namespace

RelayMessage RelayMessageParser::parse(std::string_view frame) {
  std::size_t i = 0;
  if (!expect(frame, i, '[')) return malformed("not a JSON array");
  auto type = scan_string(frame, i);
  if (!type) return malformed("message type is not a string");
  if (*type == "EVENT") return split_event(frame, i);
  return parse_other(frame);
}

std::optional<Id32> leading_id(std::string_view event) {
  std::size_t i = 0;
  if (!expect(event, i, '{')) return std::nullopt;
  const auto key = scan_string(event, i);
  if (!key || *key != "id" || !expect(event, i, ':')) return std::nullopt;
  const auto value = scan_string(event, i);
  Id32 id;
  if (!value || !decode_lower_hex(*value, id)) return std::nullopt;
  return id;
}

// A scan of the top-level keys, not a parse: this runs on the io thread for every event of a history run,
// where a simdjson DOM parse cost ~1 us per frame. The worker parses (and may reject) the event anyway.
std::optional<std::int64_t> RelayMessageParser::created_at(std::string_view event) {
  std::size_t i = 0;
  if (!expect(event, i, '{')) return std::nullopt;
  while (i < event.size() && event[i] != '}') {
    const auto key = scan_string(event, i);
    if (!key || !expect(event, i, ':')) return std::nullopt;
    if (*key == "created_at") {
      std::int64_t at = 0;
      const char* end = event.data() + event.size();
      const auto [p, ec] = std::from_chars(event.data() + i, end, at);
      if (ec != std::errc() || p == event.data() + i) return std::nullopt;
      i = static_cast<std::size_t>(p - event.data());
      skip_ws(event, i);
      if (i >= event.size() || (event[i] != ',' && event[i] != '}')) return std::nullopt;  // 1.5, 1e3, ...
      return at;
    }
    if (!skip_value(event, i)) return std::nullopt;
    skip_ws(event, i);
    if (i < event.size() && event[i] == ',') ++i, skip_ws(event, i);
  }
  return std::nullopt;
}

RelayMessage RelayMessageParser::parse_other(std::string_view frame) {
  simdjson::dom::element doc;
  if (parser_.parse(frame.data(), frame.size()).get(doc) != simdjson::SUCCESS) return malformed("invalid JSON");
  simdjson::dom::array arr;
  if (doc.get_array().get(arr) != simdjson::SUCCESS || arr.size() == 0) return malformed("not a non-empty array");
  const std::string type = string_at(arr, 0);
  RelayMessage m;
  m.type = RelayMsgType::other;
  if (type == "EOSE" && arr.size() == 2) m.type = RelayMsgType::eose, m.sub = string_at(arr, 1);
  else if (type == "NOTICE" && arr.size() >= 2) m.type = RelayMsgType::notice, m.text = string_at(arr, 1);
  else if (type == "CLOSED" && arr.size() >= 2) m.type = RelayMsgType::closed, m.sub = string_at(arr, 1), m.text = string_at(arr, 2);
  else if (type == "AUTH" && arr.size() == 2) m.type = RelayMsgType::auth, m.text = string_at(arr, 1);
  else if (type == "OK" && arr.size() >= 3) m.type = RelayMsgType::ok, m.sub = string_at(arr, 1), m.text = string_at(arr, 3);
  else if (type == "EOSE" || type == "NOTICE" || type == "CLOSED" || type == "AUTH" || type == "OK")
    return malformed(type + " with the wrong arity");
  return m;
}

}  // namespace pb::daemon
