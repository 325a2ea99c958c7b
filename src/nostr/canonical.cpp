#include "nostr/canonical.hpp"

#include <array>
#include <charconv>

#include "nostr/crypto.hpp"
#include "nostr/hex.hpp"

namespace pb {
namespace {

// For each byte: 0 = copy raw, otherwise the character after the backslash ('u' for \u00xx).
constexpr std::array<char, 256> make_escape_table() {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}
constexpr std::array<char, 256> kEscape = make_escape_table();

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  std::size_t run_start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char esc = kEscape[static_cast<unsigned char>(s[i])];
    if (esc == 0) continue;
    out.append(s.data() + run_start, i - run_start);
    out.push_back('\\');
    out.push_back(esc);
    if (esc == 'u') {
      constexpr char hex[] = "0123456789abcdef";
      const auto c = static_cast<unsigned char>(s[i]);
      out.append("00");
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xf]);
    }
    run_start = i + 1;
  }
  out.append(s.data() + run_start, s.size() - run_start);
  out.push_back('"');
}

void append_canonical(std::string& out, const Event& ev) {
  out.append("[0,\"");
  append_hex(out, ev.pubkey);
  out.append("\",");
  append_int(out, ev.created_at);
  out.push_back(',');
  append_int(out, ev.kind);
  out.append(",[");
  for (std::size_t t = 0; t < ev.tags.size(); ++t) {
    if (t) out.push_back(',');
    out.push_back('[');
    const Tag& tag = ev.tags[t];
    for (std::size_t v = 0; v < tag.size(); ++v) {
      if (v) out.push_back(',');
      append_json_string(out, tag[v]);
    }
    out.push_back(']');
  }
  out.append("],");
  append_json_string(out, ev.content);
  out.push_back(']');
}

Id32 compute_event_id(const Event& ev, std::string& scratch) {
  scratch.clear();
  append_canonical(scratch, ev);
  return sha256({reinterpret_cast<const std::uint8_t*>(scratch.data()), scratch.size()});
}

Id32 compute_event_id(const Event& ev, std::string& scratch, Sha256Hasher& hasher) {
  scratch.clear();
  append_canonical(scratch, ev);
  return hasher.digest({reinterpret_cast<const std::uint8_t*>(scratch.data()), scratch.size()});
}

}  // namespace pb
