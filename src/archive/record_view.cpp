#include "archive/record_view.hpp"

#include <charconv>

#include <simdjson.h>

#include "nostr/canonical.hpp"
#include "nostr/hex.hpp"

namespace pb {
namespace {

using detail::WireReader;

bool utf8_ok(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

// Checks one tag message (every value UTF-8, as protobuf requires of strings) and notes its first two values.
bool read_tag(std::string_view body, TagHead& head) {
  WireReader r(body);
  std::size_t n = 0;
  while (!r.done()) {
    std::uint32_t field, wt;
    if (!r.key(field, wt)) return false;
    if (field == 1 && wt == 2) {
      std::string_view v;
      if (!r.bytes(v) || !utf8_ok(v)) return false;
      if (n == 0) head.name = v;
      if (n == 1) {
        head.value = v;
        head.has_value = true;
      }
      ++n;
    } else if (!r.skip(wt, field)) {
      return false;
    }
  }
  return true;
}

}  // namespace

const char* read_record(std::string_view bytes, RecordView& out) {
  constexpr const char* kInvalid = "not a valid ProtoEvent";
  WireReader r(bytes);
  out.bytes = bytes;
  out.id_hex = out.pubkey_hex = out.sig_hex = out.content = {};
  out.head.created_at = 0;
  out.head.kind = 0;
  out.head.tags.clear();
  out.tags.clear();
  while (!r.done()) {
    std::uint32_t field, wt;
    if (!r.key(field, wt)) return kInvalid;
    bool ok = true;
    std::uint64_t n;
    std::string_view v;
    if (wt == 2 && (field == 1 || field == 2 || field == 7)) {
      ok = r.bytes(field == 1 ? out.id_hex : field == 2 ? out.pubkey_hex : out.sig_hex);
    } else if (wt == 0 && (field == 3 || field == 4)) {
      ok = r.varint(n);
      if (field == 3) out.head.created_at = static_cast<std::int64_t>(n);
      else out.head.kind = static_cast<std::int32_t>(n);
    } else if (wt == 2 && field == 5) {
      TagHead head;
      ok = r.bytes(v) && read_tag(v, head);
      out.tags.push_back(v);
      out.head.tags.push_back(head);
    } else if (wt == 2 && field == 6) {
      ok = r.bytes(v) && utf8_ok(v);
      out.content = v;
    } else {
      ok = r.skip(wt, field);
    }
    if (!ok) return kInvalid;
  }
  if (!utf8_ok(out.id_hex) || !utf8_ok(out.pubkey_hex) || !utf8_ok(out.sig_hex)) return kInvalid;
  if (!decode_lower_hex(out.id_hex, out.head.id)) return "id is not 64 lowercase hex characters";
  if (!decode_lower_hex(out.pubkey_hex, out.head.pubkey)) return "pubkey is not 64 lowercase hex characters";
  Sig64 sig;
  if (!decode_lower_hex(out.sig_hex, sig)) return "sig is not 128 lowercase hex characters";
  return nullptr;
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
    for_each_tag_value(v.tags[t], [&](std::string_view value) {
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
