// One discovered relay URL and what the daemon knows about it: a row of <archive>/discovery.db
// (discovery_store.hpp) plus what is only kept in memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pb::daemon {

struct Candidate {
  std::string url;                   // normalised (net::parse_relay_url)
  std::uint64_t mentions = 0;        // stored events naming it (each event counts once)
  std::int64_t first_seen = 0;       // unix seconds: first and last time a stored event named it
  std::int64_t last_seen = 0;
  std::uint8_t sources = 0;          // HintSource bits: kind-10002 `r` tag, e/p/a relay hint
  std::uint32_t failures = 0;        // connection attempts failed in a row (reset when one opens)
  std::int64_t parked_until = 0;     // unix seconds; not dialled before (0: not parked)
  std::uint64_t novel_events = 0;    // events stored from this relay first (no other relay had sent them)
  std::int64_t connected_seconds = 0;  // time with an open connection (sampled each discovery round)
  std::int64_t active_seconds = 0;     // time in the connected set, open or (re)connecting
  std::string last_error;
  // In memory only.
  std::string_view refusal;          // judge_url's reason for this run's settings (empty: allowed)
  bool dirty = false;                // changed since the last save
};

}  // namespace pb::daemon
