// Discovery's part of /metrics and /relays (members of Discovery, kept apart from its rounds).
#include <algorithm>

#include <fmt/format.h>

#include "daemon/discovery.hpp"
#include "daemon/discovery_policy.hpp"
#include "daemon/discovery_score.hpp"
#include "daemon/discovery_store.hpp"
#include "nostr/canonical.hpp"

namespace pb::daemon {
namespace {

constexpr std::size_t kMaxListed = 1000;  // candidates shown by /relays (best first)

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void gauge(std::string& out, std::string_view name, std::string_view type, std::string_view help, std::uint64_t v) {
  out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, v);
}

void candidate_fields(std::string& out, const Candidate& c) {
  out += fmt::format(",\"mentions\":{},\"found_in\":", c.mentions);
  append_json_string(out, sources_text(c.sources));
  out += fmt::format(",\"score\":{:.3f},\"failures\":{},\"parked_until\":{},\"novel_events\":{},\"connected_seconds\":{}",
                     score(c), c.failures, c.parked_until, c.novel_events, c.connected_seconds);
  out += fmt::format(",\"active_seconds\":{},\"first_seen\":{},\"last_seen\":{}", c.active_seconds, c.first_seen, c.last_seen);
  out += ",\"refusal\":";
  append_json_string(out, c.refusal);
}

}  // namespace

void Discovery::append_metrics(std::string& out) const {
  const std::int64_t now = unix_now();
  std::uint64_t parked = 0, refused_now = 0, connected = 0;
  for (const auto& [url, c] : candidates_) {
    const auto state = candidate_state(c, now);
    parked += state == "parked";
    refused_now += state == "refused";
  }
  for (const auto& url : active_)
    if (const auto* conn = relays_.connection(url)) connected += conn->connected();
  gauge(out, "proton_beam_discovery_candidates", "gauge", "Relay URLs in the candidate table", candidates_.size());
  gauge(out, "proton_beam_discovery_relays_active", "gauge", "Discovered relays in the connected set", active_.size());
  gauge(out, "proton_beam_discovery_relays_connected", "gauge", "Discovered relays with an open connection", connected);
  gauge(out, "proton_beam_discovery_candidates_parked", "gauge", "Candidates parked after repeated failures", parked);
  gauge(out, "proton_beam_discovery_candidates_refused", "gauge", "Candidates the address rules refuse", refused_now);
  out += "# HELP proton_beam_discovery_refused_total Relay URL mentions and connection attempts refused, by reason\n"
         "# TYPE proton_beam_discovery_refused_total counter\n";
  for (auto reason : refusal_reasons())
    out += fmt::format("proton_beam_discovery_refused_total{{reason=\"{}\"}} {}\n", reason, refused_.at(reason));
  gauge(out, "proton_beam_discovery_rounds_total", "counter", "Discovery rounds run", rounds_);
  gauge(out, "proton_beam_discovery_rotations_total", "counter", "Discovered relays rotated out for a better one", rotations_);
  gauge(out, "proton_beam_discovery_parks_total", "counter", "Relays parked after failing 10 times in a row", parks_);
  gauge(out, "proton_beam_discovery_rate_limited_total", "counter", "New discovered connections deferred by the per-minute limit", rate_limited_);
  gauge(out, "proton_beam_discovery_hints_dropped_total", "counter", "Relay hints dropped (hand-over queue full)", feed_.dropped());
  gauge(out, "proton_beam_discovery_store_errors_total", "counter", "discovery.db open/save failures", store_errors_);
}

void Discovery::append_relay_fields(std::string& out, const std::string& url) const {
  if (const auto it = candidates_.find(url); it != candidates_.end()) candidate_fields(out, it->second);
}

void Discovery::append_candidates(std::string& out) const {
  const std::int64_t now = unix_now();
  std::vector<const Candidate*> listed;
  for (const auto& [url, c] : candidates_)
    if (!relays_.connection(url)) listed.push_back(&c);
  const auto n = std::min(listed.size(), kMaxListed);
  std::partial_sort(listed.begin(), listed.begin() + static_cast<std::ptrdiff_t>(n), listed.end(),
                    [](const Candidate* a, const Candidate* b) { return ranks_before(*a, *b); });
  for (std::size_t i = 0; i < n; ++i) {
    const Candidate& c = *listed[i];
    if (out.size() > 1) out += ",";
    out += "{\"url\":";
    append_json_string(out, c.url);
    out += ",\"origin\":\"discovered\",\"state\":";
    append_json_string(out, candidate_state(c, now));
    candidate_fields(out, c);
    out += ",\"last_error\":";
    append_json_string(out, c.last_error);
    out += "}";
  }
}

}  // namespace pb::daemon
