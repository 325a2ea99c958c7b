#include "serve/wire.hpp"

#include <cstdio>

#include "nostr/json_writer.hpp"

namespace pb::serve {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (u < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

namespace {
std::string head(std::string_view verb, std::string_view sub_id) {
  std::string out = "[\"";
  out += verb;
  out += "\",";
  append_json_string(out, sub_id);
  return out;
}
}  // namespace

std::string event_message(std::string_view sub_id, const Event& ev) {
  std::string out = head("EVENT", sub_id);
  out += ',';
  append_event_json(out, ev);
  out += ']';
  return out;
}

std::string eose_message(std::string_view sub_id) { return head("EOSE", sub_id) + "]"; }

std::string closed_message(std::string_view sub_id, std::string_view reason) {
  std::string out = head("CLOSED", sub_id);
  out += ',';
  append_json_string(out, reason);
  out += ']';
  return out;
}

std::string notice_message(std::string_view text) {
  std::string out = "[\"NOTICE\",";
  append_json_string(out, text);
  out += ']';
  return out;
}

std::string count_message(std::string_view sub_id, std::uint64_t n) {
  return head("COUNT", sub_id) + ",{\"count\":" + std::to_string(n) + "}]";
}

std::string ok_message(std::string_view event_id, bool ok, std::string_view reason) {
  std::string out = head("OK", event_id);
  out += ok ? ",true," : ",false,";
  append_json_string(out, reason);
  out += ']';
  return out;
}

}  // namespace pb::serve
