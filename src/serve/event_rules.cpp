#include "serve/event_rules.hpp"

#include "nostr/hex.hpp"

namespace pb::serve {

std::string_view d_tag(const EventHead& ev) {
  for (const TagHead& t : ev.tags)
    if (t.has_value && t.name == "d") return t.value;
  return {};
}

std::optional<std::string> address_of(const EventHead& ev) {
  if (!is_replaceable(ev.kind) && !is_addressable(ev.kind)) return std::nullopt;
  std::string a = std::to_string(ev.kind) + ":" + to_hex(ev.pubkey) + ":";
  if (is_addressable(ev.kind)) a += d_tag(ev);
  return a;
}

bool expired(const EventHead& ev, std::int64_t now) {
  const auto e = expiration_of(ev);
  return e && *e <= now;
}

}  // namespace pb::serve
