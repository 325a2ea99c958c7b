// What flows between the daemon's stages: relay frames (io thread -> workers) and checked events
// (workers -> the single writer).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "archive/index.hpp"
#include "daemon/counters.hpp"
#include "daemon/discovery_hints.hpp"
#include "nostr/event.hpp"

namespace pb::daemon {

// One EVENT frame for our subscription; the event object is frame[offset, offset + size).
struct InboundEvent {
  std::shared_ptr<RelayCounters> relay;
  std::string frame;
  std::size_t offset = 0, size = 0;
};

// A verified new event to store, or (known = true) an id the index already holds: either way the
// relay's cursor may move to created_at once the writer commits.
struct CheckedEvent {
  std::shared_ptr<RelayCounters> relay;
  bool known = false;
  Id32 id{}, pubkey{};
  std::int64_t created_at = 0;
  std::int32_t kind = 0;
  std::string record;
  std::vector<IndexTag> tags;
  std::vector<RelayHint> hints;  // relay URLs the event names (only when discovery is on)
};

}  // namespace pb::daemon
