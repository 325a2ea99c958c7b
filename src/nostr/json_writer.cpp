#include "nostr/json_writer.hpp"

#include <charconv>

#include "nostr/canonical.hpp"
#include "nostr/hex.hpp"

namespace pb {

void append_event_json(std::string& out, const Event& ev) {
  char num[24];
  out.append("{\"id\":\"");
  append_hex(out, ev.id);
  out.append("\",\"pubkey\":\"");
  append_hex(out, ev.pubkey);
  out.append("\",\"created_at\":");
  out.append(num, std::to_chars(num, num + sizeof num, ev.created_at).ptr);
  out.append(",\"kind\":");
  out.append(num, std::to_chars(num, num + sizeof num, ev.kind).ptr);
  out.append(",\"tags\":[");
  for (std::size_t t = 0; t < ev.tags.size(); ++t) {
    if (t) out.push_back(',');
    out.push_back('[');
    for (std::size_t v = 0; v < ev.tags[t].size(); ++v) {
      if (v) out.push_back(',');
      append_json_string(out, ev.tags[t][v]);
    }
    out.push_back(']');
  }
  out.append("],\"content\":");
  append_json_string(out, ev.content);
  out.append(",\"sig\":\"");
  append_hex(out, ev.sig);
  out.append("\"}");
}

}  // namespace pb
