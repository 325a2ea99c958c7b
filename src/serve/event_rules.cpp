#include "serve/event_rules.hpp"

#include "nostr/hex.hpp"

namespace pb::serve {

std::string d_tag(const Event& ev) {
  for (const auto& t : ev.tags)
    if (t.size() >= 2 && t[0] == "d") return t[1];
  return {};
}

std::optional<std::string> address_of(const Event& ev) {
  if (!is_replaceable(ev.kind) && !is_addressable(ev.kind)) return std::nullopt;
  std::string a = std::to_string(ev.kind) + ":" + to_hex(ev.pubkey) + ":";
  if (is_addressable(ev.kind)) a += d_tag(ev);
  return a;
}

bool expired(const Event& ev, std::int64_t now) {
  const auto e = expiration_of(ev);
  return e && *e <= now;
}

}  // namespace pb::serve
