#include "daemon/discovery_policy.hpp"

#include <algorithm>
#include <cctype>

#include "daemon/discovery_hints.hpp"
#include "net/address_policy.hpp"
#include "net/relay_url.hpp"

namespace pb::daemon {
namespace {

std::string_view address_reason(net::AddressClass c) {
  switch (c) {
    case net::AddressClass::public_unicast: return {};
    case net::AddressClass::loopback: return "loopback";
    case net::AddressClass::private_net: return "private";
    case net::AddressClass::link_local: return "link_local";
    case net::AddressClass::cgnat: return "cgnat";
    case net::AddressClass::unique_local: return "unique_local";
    case net::AddressClass::multicast: return "multicast";
    case net::AddressClass::unspecified: return "unspecified";
    case net::AddressClass::broadcast: return "broadcast";
    case net::AddressClass::reserved: return "reserved";
  }
  return "reserved";
}

bool ends_with_label(std::string_view host, std::string_view suffix) {
  if (host == suffix) return true;
  return host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix &&
         host[host.size() - suffix.size() - 1] == '.';
}

bool ws_scheme(std::string_view raw) {
  const auto sep = raw.find("://");
  if (sep == std::string_view::npos) return false;
  std::string scheme(raw.substr(0, sep));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return scheme == "ws" || scheme == "wss";
}

}  // namespace

const std::vector<std::string_view>& refusal_reasons() {
  static const std::vector<std::string_view> reasons = {
      "too_long",  "scheme",   "malformed",    "onion",     "local_name",  "loopback", "private",
      "link_local", "cgnat",   "unique_local", "multicast", "unspecified", "broadcast", "reserved",
      "no_address", "ip_limit", "table_full", "nip11_auth_required", "nip11_payment_required"};
  return reasons;
}

UrlVerdict judge_url(std::string_view raw, bool allow_private) {
  if (raw.size() > kMaxHintBytes) return {{}, "too_long"};
  if (!ws_scheme(raw)) return {{}, "scheme"};
  auto parsed = net::parse_relay_url(raw);
  if (!parsed) return {{}, "malformed"};
  const net::RelayUrl& url = *parsed.url;
  UrlVerdict v{url.normalized, {}};
  if (url.host_is_ip) {
    const auto reason = address_reason(net::classify_address(boost::asio::ip::make_address(url.host)).cls);
    if (!allow_private) v.reason = reason;
    return v;
  }
  if (ends_with_label(url.host, "onion")) v.reason = "onion";
  else if (!allow_private && net::refused_host(url.host)) v.reason = "local_name";
  return v;
}

AddressFilter filter_addresses(std::span<const boost::asio::ip::address> resolved, bool allow_private) {
  AddressFilter out;
  for (const auto& a : resolved) {
    const auto reason = address_reason(net::classify_address(a).cls);
    if (reason.empty() || allow_private) out.allowed.push_back(a);
    else if (out.reason.empty()) out.reason = reason;  // the first refused address explains
  }
  if (!out.allowed.empty()) out.reason = {};
  else if (out.reason.empty()) out.reason = "no_address";
  return out;
}

std::string loggable_url(std::string_view raw) {
  std::string out;
  for (char c : raw.substr(0, 120)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (raw.size() > 120) out += "...";
  return out;
}

}  // namespace pb::daemon
