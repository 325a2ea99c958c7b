// SSRF guard: classify IP addresses and host names a relay URL may point at.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

namespace pb::net {

enum class AddressClass {
  public_unicast,
  loopback,      // 127/8, ::1
  private_net,   // 10/8, 172.16/12, 192.168/16
  link_local,    // 169.254/16, fe80::/10
  cgnat,         // 100.64/10
  unique_local,  // fc00::/7
  multicast,     // 224/4, ff00::/8
  unspecified,   // 0.0.0.0, ::
  broadcast,     // 255.255.255.255
  reserved,      // 0/8, 240/4, documentation, benchmarking, IETF blocks, non-global IPv6
};

struct AddressVerdict {
  AddressClass cls = AddressClass::public_unicast;
  std::string_view reason;  // "public", "loopback", "private", ... (static storage)
  bool is_public() const { return cls == AddressClass::public_unicast; }
};

// IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::/96) IPv6 addresses are judged by the embedded IPv4.
AddressVerdict classify_address(const boost::asio::ip::address& addr);
inline bool is_public(const boost::asio::ip::address& addr) { return classify_address(addr).is_public(); }

// Host names refused by name before any DNS lookup: "localhost" (and *.localhost), *.local (mDNS),
// *.onion (Tor), *.internal, *.home.arpa. Returns the reason, or nothing if the name may be resolved.
// An IP literal is judged with classify_address.
std::optional<std::string> refused_host(std::string_view host);

}  // namespace pb::net
