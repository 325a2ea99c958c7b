// Relay URLs named inside an event: the `r` tags of a NIP-65 relay list (kind 10002) and the relay hint
// (third element) of `e`, `p` and `a` tags. Raw text, not yet judged (discovery_policy.hpp does that).
// Worker threads call this on verified events; the writer hands the hints of stored events to discovery.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nostr/event.hpp"

namespace pb::daemon {

enum class HintSource : std::uint8_t { nip65 = 1, hint = 2 };  // bit flags (a URL may come from both)

struct RelayHint {
  std::string url;  // as written in the tag (cut to kMaxHintBytes + 1: longer is refused as too long)
  HintSource source = HintSource::hint;
  bool operator==(const RelayHint&) const = default;
};

inline constexpr std::size_t kMaxHintsPerEvent = 64;  // a hostile event with 10k tags adds 64 at most
inline constexpr std::size_t kMaxHintBytes = 256;     // longer URLs are refused ("too_long")

// The event's distinct, non-empty relay URLs in tag order (a URL named by both kinds of tag is listed
// once, as nip65), at most kMaxHintsPerEvent.
std::vector<RelayHint> relay_hints(const Event& ev);

}  // namespace pb::daemon
