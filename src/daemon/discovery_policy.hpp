// Which discovered relay URLs and addresses the daemon may connect to (SSRF rules). Operator relays never
// pass through here. Refusal reasons are short stable codes: they label
// proton_beam_discovery_refused_total{reason=...} and appear in /relays and the log.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace pb::daemon {

// Every refusal reason, in the order /metrics lists them.
//   too_long, scheme (not ws/wss), malformed      the URL itself (never stored as a candidate)
//   onion                                         .onion names (no Tor here; refused even with allow_private)
//   local_name                                    localhost, *.local, *.internal, *.home.arpa, single-label names
//   loopback, private, link_local, cgnat, unique_local, multicast, unspecified, broadcast, reserved
//                                                 the address (an IP literal, or what the name resolved to)
//   no_address                                    the name resolved to nothing
//   ip_limit                                      kMaxConnectionsPerIp discovered relays already use the address
//   table_full                                    the candidate table holds kMaxCandidates URLs already
//   nip11_auth_required, nip11_payment_required   a discovered relay's NIP-11 document says so (at dial time)
const std::vector<std::string_view>& refusal_reasons();

struct UrlVerdict {
  std::string url;          // the normalised URL (empty when it could not be parsed)
  std::string_view reason;  // empty: allowed (addresses still to be checked after resolving)
};

// Judges a URL found in an event. allow_private lifts the name and address rules (not onion, not the
// URL checks).
UrlVerdict judge_url(std::string_view raw, bool allow_private);

struct AddressFilter {
  std::vector<boost::asio::ip::address> allowed;  // the resolved addresses that may be dialled, in order
  std::string_view reason;                        // why none may (empty when some may)
};

// Keeps the public addresses of a resolved name (all of them with allow_private). The connection must go
// to these very addresses: resolving again would reopen the DNS-rebinding window.
AddressFilter filter_addresses(std::span<const boost::asio::ip::address> resolved, bool allow_private);

// A URL made safe for a log line: printable ASCII only, cut to 120 characters.
std::string loggable_url(std::string_view raw);

}  // namespace pb::daemon
