#include "nostr/expiration.hpp"

#include <charconv>

namespace pb {

std::optional<std::int64_t> expiration_of(const Event& ev) {
  for (const auto& t : ev.tags) {
    if (t.size() < 2 || t[0] != "expiration") continue;
    std::int64_t v = 0;
    const auto& s = t[1];
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return v;
  }
  return std::nullopt;
}

}  // namespace pb
