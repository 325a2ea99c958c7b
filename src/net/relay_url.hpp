// Parsing and normalisation of Nostr relay URLs (ws:// and wss:// only).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pb::net {

struct RelayUrl {
  std::string scheme;       // "ws" or "wss" (lower case)
  std::string host;         // lower case; an IPv6 literal without brackets
  std::uint16_t port = 0;   // numeric, defaulted (80 for ws, 443 for wss)
  std::string target;       // path + query, never empty ("/" at least)
  std::string normalized;   // scheme://host[:port]target, default port dropped
  bool host_is_ip = false;  // host is an IPv4 or IPv6 literal (no SNI, no DNS)

  bool tls() const { return scheme == "wss"; }
  // The Host header value: host (bracketed if IPv6) plus ":port" when not the default.
  std::string host_header() const;
};

struct RelayUrlParse {
  std::optional<RelayUrl> url;
  std::string error;  // set when url is empty
  explicit operator bool() const { return url.has_value(); }
};

// Accepts ws:// and wss:// URLs. Lower-cases scheme and host, drops the default port, turns an empty
// path into "/", keeps path and query as given. Rejects other schemes, userinfo, fragments, empty or
// malformed hosts, bad ports, whitespace and control characters.
RelayUrlParse parse_relay_url(std::string_view text);

}  // namespace pb::net
