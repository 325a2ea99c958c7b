#include "daemon/http_api.hpp"

#include <fmt/format.h>

namespace pb::daemon {
namespace {

void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help, std::uint64_t v) {
  out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, v);
}

bool ready(const HttpApiState& s) {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  const auto late = now_ms - s.sink.last_tick_steady_ms.load();
  return !s.sink.failed && s.relays.connected() > 0 && late <= 2 * s.batch_interval.count() + 10'000;
}

// Connected relays (operator and discovered), then the discovered candidates outside the connected set.
std::string relays_json(const HttpApiState& s) {
  if (!s.discovery) return s.relays.relays_json();
  const Discovery& d = *s.discovery;
  std::string out = s.relays.relays_json([&d](std::string& o, const std::string& url) { d.append_relay_fields(o, url); });
  out.pop_back();  // "]"
  d.append_candidates(out);
  return out + "]";
}

}  // namespace

std::string metrics_text(const HttpApiState& s) {
  const Counters& g = s.global;
  std::string out;
  metric(out, "proton_beam_events_received_total", "counter", "EVENT messages received for our subscriptions", g.received);
  metric(out, "proton_beam_events_stored_total", "counter", "New events stored in the archive", g.stored);
  metric(out, "proton_beam_events_duplicate_total", "counter", "Events already archived or already verified", g.duplicates);
  metric(out, "proton_beam_events_invalid_total", "counter", "Events rejected (parse, id, signature)", g.invalid);
  metric(out, "proton_beam_events_filtered_total", "counter", "Events not matching our own filter (dropped)", g.filtered);
  metric(out, "proton_beam_events_unknown_subscription_total", "counter", "EVENTs for subscriptions we do not have", g.unknown_sub);
  metric(out, "proton_beam_relay_messages_malformed_total", "counter", "Relay messages not understood", g.malformed);
  metric(out, "proton_beam_relay_messages_oversize_total", "counter", "Relay messages over --max-message-bytes (skipped; 16 times over: the connection closed)", g.oversize);
  metric(out, "proton_beam_relay_notices_total", "counter", "NOTICE messages", g.notices);
  metric(out, "proton_beam_relay_connects_total", "counter", "Relay connections opened", g.connects);
  metric(out, "proton_beam_relay_disconnects_total", "counter", "Relay connections lost or closed", g.disconnects);
  metric(out, "proton_beam_relay_auth_total", "counter", "NIP-42 AUTH answers sent", g.auth_sent);
  metric(out, "proton_beam_relay_rate_limited_total", "counter", "CLOSED rate-limited answers", g.rate_limited);
  metric(out, "proton_beam_relay_history_pages_total", "counter", "History paging REQs sent (until = the oldest event seen)", g.pages);
  metric(out, "proton_beam_backpressure_pauses_total", "counter", "Times a relay was paused because the queue was full", g.backpressure);
  metric(out, "proton_beam_relays_connected", "gauge", "Relays with an open connection", s.relays.connected());
  metric(out, "proton_beam_commits_total", "counter", "Archive commits", s.sink.commits);
  metric(out, "proton_beam_last_commit_timestamp_seconds", "gauge", "Unix time of the last commit (0: none)",
         static_cast<std::uint64_t>(s.sink.last_commit_unix.load()));
  if (s.nip11) s.nip11->append_metrics(out);
  if (s.discovery) s.discovery->append_metrics(out);
  if (s.s3) {
    metric(out, "proton_beam_s3_push_total", "counter", "S3 pushes finished, successful or not", s.s3->pushes);
    metric(out, "proton_beam_s3_push_failures_total", "counter", "S3 pushes in which a file or the whole push failed",
           s.s3->failures);
    metric(out, "proton_beam_s3_last_push_timestamp_seconds", "gauge", "Unix time the last successful S3 push ended (0: none)",
           static_cast<std::uint64_t>(s.s3->last_success_unix.load()));
    metric(out, "proton_beam_s3_last_push_events", "gauge", "Events in the index snapshot of the last successful S3 push",
           s.s3->last_events);
  }
  return out;
}

net::Response handle_http(const HttpApiState& s, const net::Request& req) {
  if (req.method != "GET" && req.method != "HEAD") return net::Response::text(405, "GET only\n");
  if (req.path == "/metrics") {
    auto r = net::Response::text(200, metrics_text(s));
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  }
  if (req.path == "/health") return net::Response::text(200, "ok\n");
  if (req.path == "/ready") return ready(s) ? net::Response::text(200, "ready\n") : net::Response::text(503, "not ready\n");
  if (req.path == "/relays") return net::Response::json(200, relays_json(s) + "\n");
  return net::Response::text(404, "not found: try /metrics, /health, /ready, /relays\n");
}

}  // namespace pb::daemon
