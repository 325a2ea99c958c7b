// NIP-40: when an event expires. Protocol only (no I/O): the index keeps it (archive/index.hpp) and the
// query server applies it (serve/event_rules.hpp), both through this one reading of the tag.
#pragma once

#include <cstdint>
#include <optional>

#include "nostr/event.hpp"
#include "nostr/event_head.hpp"

namespace pb {

// The unix time of the first `expiration` tag whose value is a whole decimal integer; nullopt when
// there is none (a malformed value is ignored, as if the tag were absent).
std::optional<std::int64_t> expiration_of(const Event& ev);
std::optional<std::int64_t> expiration_of(const EventHead& ev);

}  // namespace pb
