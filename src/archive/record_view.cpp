#include "archive/record_view.hpp"

#include <charconv>

#include <simdjson.h>

#include "archive/record_parse.hpp"
#include "nostr/canonical.hpp"

namespace pb {

bool detail::utf8_ok(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

const char* read_record(std::string_view bytes, RecordView& out) {
  out.bytes = bytes;
  out.head.tags.clear();
  out.tags.clear();
  const auto note_tag = [&](std::string_view body) {
    TagHead head;
    std::size_t n = 0;
    const bool ok = detail::read_tag_values<true>(body, [&](std::string_view v) {
      if (n == 0) head.name = v;
      if (n == 1) {
        head.value = v;
        head.has_value = true;
      }
      ++n;
    });
    out.tags.push_back(body);
    out.head.tags.push_back(head);
    return ok;
  };
  detail::RecordFields f;
  Sig64 sig;
  const char* err = detail::parse_record(bytes, f, out.head.id, out.head.pubkey, sig, note_tag);
  out.id_hex = f.id_hex;
  out.pubkey_hex = f.pubkey_hex;
  out.sig_hex = f.sig_hex;
  out.content = f.content;
  out.head.created_at = f.created_at;
  out.head.kind = f.kind;
  return err;
}

void append_record_json(std::string& out, const RecordView& v) {
  char num[24];
  out.append("{\"id\":\"");
  out.append(v.id_hex);
  out.append("\",\"pubkey\":\"");
  out.append(v.pubkey_hex);
  out.append("\",\"created_at\":");
  out.append(num, std::to_chars(num, num + sizeof num, v.head.created_at).ptr);
  out.append(",\"kind\":");
  out.append(num, std::to_chars(num, num + sizeof num, v.head.kind).ptr);
  out.append(",\"tags\":[");
  for (std::size_t t = 0; t < v.tags.size(); ++t) {
    if (t) out.push_back(',');
    out.push_back('[');
    bool first = true;
    detail::read_tag_values<false>(v.tags[t], [&](std::string_view value) {
      if (!first) out.push_back(',');
      first = false;
      append_json_string(out, value);
    });
    out.push_back(']');
  }
  out.append("],\"content\":");
  append_json_string(out, v.content);
  out.append(",\"sig\":\"");
  out.append(v.sig_hex);
  out.append("\"}");
}

}  // namespace pb
