// NIP-01 / NIP-09 / NIP-33 / NIP-40 facts about one event, without I/O.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "nostr/event_head.hpp"
#include "nostr/expiration.hpp"

namespace pb::serve {

inline bool is_replaceable(std::int32_t kind) { return kind == 0 || kind == 3 || (kind >= 10000 && kind < 20000); }
inline bool is_addressable(std::int32_t kind) { return kind >= 30000 && kind < 40000; }

// The first value of the first `d` tag that has one ("" when there is none), as NIP-33 addresses events.
std::string_view d_tag(const EventHead& ev);
// "kind:pubkey:d" for replaceable ("kind:pubkey:") and addressable events; nullopt otherwise.
std::optional<std::string> address_of(const EventHead& ev);
// NIP-40 (expiration_of: nostr/expiration.hpp): expired at `now`.
bool expired(const EventHead& ev, std::int64_t now);

}  // namespace pb::serve
