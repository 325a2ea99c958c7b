// Options of `proton-beam serve` (the CLI fills them from the command line and --config; docs/serve.md
// describes each). A new option must also be listed in serve/reload.cpp (live on SIGHUP, or restart).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace pb::serve {

struct QueryLimits {
  std::uint64_t max_limit = 5000;      // a filter's limit is clamped to this
  std::uint64_t default_limit = 500;   // a filter without limit gets this
  std::uint64_t work_budget_rows = 2'000'000;  // index rows one query may examine before it is refused
  bool history = false;                // serve every stored event (no replaceable/deletion/expiry rules)
};

struct ServeOptions {
  std::filesystem::path dir = "pb_data";
  std::string host = "127.0.0.1";
  std::uint16_t port = 7447;
  QueryLimits limits;
  std::size_t max_subscriptions = 200;   // open subscriptions per connection
  std::size_t max_filters = 200;         // filters per REQ / COUNT / REST request
  std::size_t max_connections = 1024;   // HTTP + WebSocket
  std::size_t max_message_bytes = 1 << 20;  // inbound WebSocket message and HTTP body
  std::size_t max_subid_length = 64;
  std::size_t max_pending_output = 8 << 20;  // queued output per WebSocket before it is dropped
  std::size_t rate_limit_per_minute = 0;     // requests (REQ/COUNT/HTTP) per IP and minute; 0 = off
  std::size_t workers = 2;                   // query threads (one read-only index connection each)
  std::size_t net_threads = 1;               // threads running the connections (parse, frame, send)
  std::uint32_t slice_ms = 5;                // a REQ yields its worker after this long (0: every 16 rows)
  std::uint32_t first_slice_ms = 2;          // ... and after this long in its first slice (worker_pool.hpp)
  std::size_t cache_bytes = 256u << 20;      // decoded-member LRU
  std::size_t event_cache_bytes = 64u << 20; // events read from uncached members (event_cache.hpp)
  std::uint64_t index_mmap_mib = 0;          // query workers read index.db through a map this large (0: off)
  std::filesystem::path inflated_copy;       // an uncompressed copy of the day files (inflated_copy.hpp); empty: none
  std::uint32_t inflated_copy_refresh_s = 30;  // how often day files are checked for new or changed ones
  std::uint32_t tail_poll_ms = 100;          // live tail: index polling interval
  std::string name = "proton-beam archive";
  std::string description = "A read-only Nostr archive served by proton-beam";
  std::string contact;
  std::string pubkey;
  std::string cors_origin = "*";
  std::filesystem::path ready_file;          // written with the bound port once listening
};

}  // namespace pb::serve
