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

// History paging (cursor_hold.hpp): an event read while its connection's history run is unfinished
// carries the run's number; the run's end follows the same path as a mark (no event) with the count.
struct HistoryTag {
  std::uint64_t run = 0;     // 0: not part of an unfinished history run
  bool end = false;          // the end mark of `run`
  std::uint64_t events = 0;  // end mark: how many events were tagged with `run`
};

// One EVENT frame for one of our subscriptions; the event object is frame[offset, offset + size). Or a
// history end mark (empty frame).
struct InboundEvent {
  std::shared_ptr<RelayCounters> relay;
  std::string frame;
  std::size_t offset = 0, size = 0;
  HistoryTag history;
  std::uint64_t ordinal = 0;  // EVENT frames numbered in arrival order across all relays (from 1)

  std::size_t queue_bytes() const { return sizeof(*this) + frame.size(); }  // the queues' byte budget
};

// What a worker hands the writer: a verified new event to store, or an id the index already holds
// (either way the relay's cursor may move to created_at once the writer commits); for a tagged event the
// worker dropped, just that it is done with it (so the writer can tell when a history run is complete);
// or a history end mark passed on.
struct CheckedEvent {
  enum class Outcome : std::uint8_t { new_event, known, dropped, history_end };
  std::shared_ptr<RelayCounters> relay;
  Outcome outcome = Outcome::new_event;
  Id32 id{}, pubkey{};
  std::int64_t created_at = 0;
  std::int32_t kind = 0;
  std::string record;
  std::vector<IndexTag> tags;
  std::vector<RelayHint> hints;  // relay URLs the event names (only when discovery is on)
  HistoryTag history;

  std::size_t queue_bytes() const {  // the queues' byte budget (hints are few and small)
    return sizeof(*this) + record.size() + tags.size() * sizeof(IndexTag) + hints.size() * sizeof(RelayHint);
  }
};

}  // namespace pb::daemon
