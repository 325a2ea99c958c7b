#include "serve/metrics.hpp"

#include <fmt/format.h>

namespace pb::serve {

std::string metrics_text(const Metrics& m, const ExtraGauges& g) {
  std::string o;
  auto counter = [&](const char* name, const char* help, std::uint64_t v) {
    o += fmt::format("# HELP pb_serve_{0} {1}\n# TYPE pb_serve_{0} counter\npb_serve_{0} {2}\n", name, help, v);
  };
  auto gauge = [&](const char* name, const char* help, std::int64_t v) {
    o += fmt::format("# HELP pb_serve_{0} {1}\n# TYPE pb_serve_{0} gauge\npb_serve_{0} {2}\n", name, help, v);
  };
  counter("ws_sessions_total", "WebSocket sessions opened", m.ws_sessions);
  counter("ws_messages_total", "WebSocket messages received", m.ws_messages);
  counter("reqs_total", "REQ subscriptions and REST queries run", m.reqs);
  counter("counts_total", "COUNT queries run", m.counts);
  counter("events_sent_total", "events sent (relay and REST)", m.events_sent);
  counter("live_events_total", "events sent by the live tail", m.live_events);
  counter("http_requests_total", "HTTP requests", m.http_requests);
  counter("refused_rate_total", "requests refused by the per-IP rate limit", m.refused_rate);
  counter("refused_busy_total", "requests refused because the query queue was full", m.refused_busy);
  counter("refused_budget_total", "queries stopped by the work budget", m.refused_budget);
  counter("refused_caps_total", "requests refused by a cap (filters, subscriptions, sizes)", m.refused_caps);
  counter("invalid_messages_total", "malformed client messages", m.invalid_messages);
  counter("config_reloads_total", "SIGHUP reloads of the options applied", m.config_reloads);
  counter("config_reload_errors_total", "SIGHUP reloads refused (a bad configuration file; the running options stay)",
          m.config_reload_errors);
  counter("cache_hits_total", "decoded-member cache hits", g.cache_hits);
  counter("cache_misses_total", "decoded-member cache misses (members decompressed)", g.cache_misses);
  gauge("cache_bytes", "bytes held by the decoded-member cache", static_cast<std::int64_t>(g.cache_bytes));
  counter("event_cache_hits_total", "events served from the event cache (no member read)", g.event_cache_hits);
  counter("event_cache_admitted_total", "events kept by the event cache", g.event_cache_admitted);
  gauge("event_cache_bytes", "bytes held by the event cache", static_cast<std::int64_t>(g.event_cache_bytes));
  gauge("deletion_set_ready", "1 once the set of events named by deletions is built (default mode)",
        static_cast<std::int64_t>(g.deletion_set_ready));
  gauge("deletion_set_keys", "event ids and addresses named by deletions", static_cast<std::int64_t>(g.deletion_set_keys));
  counter("deletion_checks_cleared_total", "deletion checks answered by the set, without SQL", g.deletion_checks_cleared);
  counter("inflated_copy_reads_total", "cache misses read from the inflated copy (--inflated-copy)", g.copy_reads);
  counter("inflated_copy_fallbacks_total", "cache misses the inflated copy did not hold (inflated instead)",
          g.copy_fallbacks);
  counter("inflated_copy_refreshes_total", "passes of the inflated copy over the day files completed", g.copy_refreshes);
  counter("inflated_copy_members_total", "members inflated into the copy (of a grown day file only the new ones)",
          g.copy_members);
  gauge("inflated_copy_files", "day files in the inflated copy", static_cast<std::int64_t>(g.copy_files));
  gauge("inflated_copy_bytes", "size of the inflated copy", static_cast<std::int64_t>(g.copy_bytes));
  gauge("queued_jobs", "queries waiting for a worker", static_cast<std::int64_t>(g.queued_jobs));
  gauge("connections", "open HTTP and WebSocket connections", static_cast<std::int64_t>(g.connections));
  gauge("open_sessions", "open WebSocket sessions", m.open_sessions);
  gauge("open_subscriptions", "open subscriptions", m.open_subscriptions);
  return o;
}

}  // namespace pb::serve
