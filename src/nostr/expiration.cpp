#include "nostr/expiration.hpp"

#include <charconv>

namespace pb {

namespace {

// A whole decimal integer, or nothing.
std::optional<std::int64_t> whole_number(std::string_view s) {
  std::int64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::int64_t> expiration_of(const Event& ev) {
  for (const auto& t : ev.tags)
    if (t.size() >= 2 && t[0] == "expiration")
      if (const auto v = whole_number(t[1])) return v;
  return std::nullopt;
}

std::optional<std::int64_t> expiration_of(const EventHead& ev) {
  for (const TagHead& t : ev.tags)
    if (t.has_value && t.name == "expiration")
      if (const auto v = whole_number(t.value)) return v;
  return std::nullopt;
}

}  // namespace pb
