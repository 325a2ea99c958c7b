// Event and connection counters: one set per relay (shown by /relays) and one for the whole process
// (/metrics). Every relay increment also counts globally. Atomics: io, worker and writer threads count.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace pb::daemon {

struct Counters {
  std::atomic<std::uint64_t> received{0};      // EVENT messages for our subscription
  std::atomic<std::uint64_t> stored{0};        // new events added to the archive
  std::atomic<std::uint64_t> duplicates{0};    // already archived or already verified
  std::atomic<std::uint64_t> invalid{0};       // failed parsing, id or signature checks
  std::atomic<std::uint64_t> filtered{0};      // valid JSON but not matching our own filter
  std::atomic<std::uint64_t> unknown_sub{0};   // EVENT for a subscription we do not have open
  std::atomic<std::uint64_t> malformed{0};     // relay messages we could not understand
  std::atomic<std::uint64_t> oversize{0};      // connections closed for a message over the size cap
  std::atomic<std::uint64_t> notices{0};
  std::atomic<std::uint64_t> connects{0};      // connections opened
  std::atomic<std::uint64_t> disconnects{0};
  std::atomic<std::uint64_t> auth_sent{0};     // NIP-42 AUTH answers
  std::atomic<std::uint64_t> rate_limited{0};  // CLOSED "rate-limited:"
  std::atomic<std::uint64_t> closed_other{0};  // other CLOSED for our subscription
  std::atomic<std::uint64_t> backpressure{0};  // times reading was paused because the queue was full
  std::atomic<std::uint64_t> pages{0};         // history paging REQs sent (until = the oldest seen)
};

using Counter = std::atomic<std::uint64_t> Counters::*;

struct RelayCounters : Counters {
  RelayCounters(std::string u, Counters& g, std::int64_t c) : url(std::move(u)), global(g), cursor(c) {}
  const std::string url;
  Counters& global;
  std::atomic<std::int64_t> cursor;  // newest created_at committed from this relay, -1 = none
  std::atomic<std::uint64_t> failures_in_row{0};  // connection attempts that failed since one last opened

  void bump(Counter c, std::uint64_t n = 1) {
    (this->*c).fetch_add(n, std::memory_order_relaxed);
    (global.*c).fetch_add(n, std::memory_order_relaxed);
  }
};

}  // namespace pb::daemon
