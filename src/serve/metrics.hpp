// Counters of the server, exported on GET /metrics (Prometheus text format).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace pb::serve {

struct Metrics {
  std::atomic<std::uint64_t> ws_sessions{0}, ws_messages{0}, reqs{0}, counts{0}, events_sent{0};
  std::atomic<std::uint64_t> http_requests{0}, refused_rate{0}, refused_busy{0}, refused_budget{0};
  std::atomic<std::uint64_t> refused_caps{0}, invalid_messages{0}, live_events{0};
  std::atomic<std::uint64_t> config_reloads{0}, config_reload_errors{0};
  std::atomic<std::int64_t> open_sessions{0}, open_subscriptions{0};
};

struct ExtraGauges {
  std::uint64_t cache_hits = 0, cache_misses = 0, cache_bytes = 0, queued_jobs = 0, connections = 0;
  std::uint64_t event_cache_hits = 0, event_cache_admitted = 0, event_cache_bytes = 0;
  std::uint64_t deletion_set_ready = 0, deletion_set_keys = 0, deletion_checks_cleared = 0;
  std::uint64_t copy_reads = 0, copy_fallbacks = 0, copy_files = 0, copy_bytes = 0, copy_refreshes = 0, copy_members = 0;
};

std::string metrics_text(const Metrics& m, const ExtraGauges& g);

}  // namespace pb::serve
