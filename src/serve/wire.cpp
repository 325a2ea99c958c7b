#include "serve/wire.hpp"

#include "nostr/canonical.hpp"
#include "nostr/json_writer.hpp"

namespace pb::serve {

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
  std::string out;
  // Room for the usual event in one allocation (hex ids, key and signature are 288 characters).
  std::size_t guess = 400 + sub_id.size() + ev.content.size();
  for (const auto& tag : ev.tags)
    for (const auto& v : tag) guess += v.size() + 4;
  out.reserve(guess);
  out += event_message_head(sub_id);
  append_event_json(out, ev);
  out += ']';
  return out;
}

std::string event_message_head(std::string_view sub_id) { return head("EVENT", sub_id) + ","; }

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
