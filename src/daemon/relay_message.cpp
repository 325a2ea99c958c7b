#include "daemon/relay_message.hpp"

#include <optional>

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

std::optional<std::int64_t> RelayMessageParser::created_at(std::string_view event) {
  simdjson::dom::element doc;
  std::int64_t at = 0;
  if (parser_.parse(event.data(), event.size()).get(doc) != simdjson::SUCCESS) return std::nullopt;
  if (doc["created_at"].get_int64().get(at) != simdjson::SUCCESS) return std::nullopt;
  return at;
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
