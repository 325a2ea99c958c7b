#include "net/address_policy.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace pb::net {
namespace {

AddressVerdict verdict(AddressClass c) {
  switch (c) {
    case AddressClass::public_unicast: return {c, "public"};
    case AddressClass::loopback: return {c, "loopback"};
    case AddressClass::private_net: return {c, "private"};
    case AddressClass::link_local: return {c, "link-local"};
    case AddressClass::cgnat: return {c, "carrier-grade NAT"};
    case AddressClass::unique_local: return {c, "unique local"};
    case AddressClass::multicast: return {c, "multicast"};
    case AddressClass::unspecified: return {c, "unspecified"};
    case AddressClass::broadcast: return {c, "broadcast"};
    case AddressClass::reserved: return {c, "reserved"};
  }
  return {AddressClass::reserved, "reserved"};
}

struct V4Range {
  std::uint32_t base;
  int bits;
  AddressClass cls;
};

constexpr std::uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d) { return (a << 24) | (b << 16) | (c << 8) | d; }

constexpr std::array<V4Range, 17> kV4Ranges{{
    {ip4(0, 0, 0, 0), 8, AddressClass::reserved},  // "this network" (0.0.0.0 itself handled first)
    {ip4(10, 0, 0, 0), 8, AddressClass::private_net},
    {ip4(100, 64, 0, 0), 10, AddressClass::cgnat},
    {ip4(127, 0, 0, 0), 8, AddressClass::loopback},
    {ip4(169, 254, 0, 0), 16, AddressClass::link_local},
    {ip4(172, 16, 0, 0), 12, AddressClass::private_net},
    {ip4(192, 0, 0, 0), 24, AddressClass::reserved},     // IETF protocol assignments
    {ip4(192, 0, 2, 0), 24, AddressClass::reserved},     // TEST-NET-1
    {ip4(192, 31, 196, 0), 24, AddressClass::reserved},  // AS112
    {ip4(192, 52, 193, 0), 24, AddressClass::reserved},  // AMT
    {ip4(192, 88, 99, 0), 24, AddressClass::reserved},   // 6to4 relay anycast (deprecated)
    {ip4(192, 168, 0, 0), 16, AddressClass::private_net},
    {ip4(198, 18, 0, 0), 15, AddressClass::reserved},     // benchmarking
    {ip4(198, 51, 100, 0), 24, AddressClass::reserved},   // TEST-NET-2
    {ip4(203, 0, 113, 0), 24, AddressClass::reserved},    // TEST-NET-3
    {ip4(224, 0, 0, 0), 4, AddressClass::multicast},
    {ip4(240, 0, 0, 0), 4, AddressClass::reserved},  // future use (255.255.255.255 handled first)
}};

AddressVerdict classify_v4(const boost::asio::ip::address_v4& a) {
  const std::uint32_t v = a.to_uint();
  if (v == 0) return verdict(AddressClass::unspecified);
  if (v == 0xffffffffu) return verdict(AddressClass::broadcast);
  for (const auto& r : kV4Ranges) {
    const std::uint32_t mask = r.bits == 0 ? 0 : ~std::uint32_t{0} << (32 - r.bits);
    if ((v & mask) == r.base) return verdict(r.cls);
  }
  return verdict(AddressClass::public_unicast);
}

AddressVerdict classify_v6(const boost::asio::ip::address_v6& a) {
  const auto b = a.to_bytes();
  if (a.is_unspecified()) return verdict(AddressClass::unspecified);
  if (a.is_loopback()) return verdict(AddressClass::loopback);
  if (a.is_v4_mapped()) return classify_v4(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a));
  // NAT64 well-known prefix 64:ff9b::/96 carries an IPv4 address in the last 32 bits.
  const std::array<unsigned char, 12> nat64{0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::equal(nat64.begin(), nat64.end(), b.begin())) {
    return classify_v4(boost::asio::ip::address_v4({b[12], b[13], b[14], b[15]}));
  }
  if (b[0] == 0xff) return verdict(AddressClass::multicast);
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return verdict(AddressClass::link_local);
  if ((b[0] & 0xfe) == 0xfc) return verdict(AddressClass::unique_local);
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return verdict(AddressClass::reserved);  // 2001:db8::/32
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02) return verdict(AddressClass::reserved);  // 2001::/23 (Teredo, ORCHID, ...)
  if (b[0] == 0x20 && b[1] == 0x02) return verdict(AddressClass::reserved);  // 6to4 (deprecated)
  if ((b[0] & 0xe0) != 0x20) return verdict(AddressClass::reserved);        // outside global unicast 2000::/3
  return verdict(AddressClass::public_unicast);
}

bool ends_with_label(std::string_view host, std::string_view suffix) {
  // host == suffix or host ends with "." + suffix
  if (host == suffix) return true;
  return host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix &&
         host[host.size() - suffix.size() - 1] == '.';
}

}  // namespace

AddressVerdict classify_address(const boost::asio::ip::address& addr) {
  return addr.is_v4() ? classify_v4(addr.to_v4()) : classify_v6(addr.to_v6());
}

std::optional<std::string> refused_host(std::string_view host_in) {
  std::string host(host_in);
  for (char& c : host)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (!host.empty() && host.back() == '.') host.pop_back();
  if (host.empty()) return std::string("empty host");
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(host, ec);
  if (!ec) {
    const auto v = classify_address(addr);
    if (v.is_public()) return std::nullopt;
    return std::string(v.reason) + " address";
  }
  if (ends_with_label(host, "localhost")) return std::string("localhost");
  if (ends_with_label(host, "local")) return std::string(".local (mDNS) name");
  if (ends_with_label(host, "onion")) return std::string(".onion name");
  if (ends_with_label(host, "internal")) return std::string(".internal name");
  if (ends_with_label(host, "home.arpa")) return std::string(".home.arpa name");
  if (host.find('.') == std::string::npos) return std::string("single-label host name");
  return std::nullopt;
}

}  // namespace pb::net
