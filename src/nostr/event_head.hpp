// What filters and the serving rules read of an event: its ids, time, kind and each tag's name and first
// value; not its content, signature or later tag values. The query server builds one straight from a
// stored record (archive/record_view.hpp) instead of decoding a whole Event per row. No I/O.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "nostr/event.hpp"

namespace pb {

// A tag's first two strings, viewed in storage the caller keeps.
struct TagHead {
  std::string_view name;   // empty for an empty tag
  std::string_view value;  // the first value; meaningful only when has_value
  bool has_value = false;  // the tag has at least two strings
};

struct EventHead {
  Id32 id{};
  Id32 pubkey{};
  std::int64_t created_at = 0;
  std::int32_t kind = 0;
  std::vector<TagHead> tags;  // in the event's order
};

// `ev`'s head into `out` (its tag views point into ev: valid while ev lives unchanged).
void head_of(const Event& ev, EventHead& out);

}  // namespace pb
