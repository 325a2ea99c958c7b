#include "net/relay_url.hpp"

#include <gtest/gtest.h>

namespace pb::net {
namespace {

RelayUrl ok(const std::string& s) {
  auto r = parse_relay_url(s);
  EXPECT_TRUE(r) << s << ": " << r.error;
  return r ? *r.url : RelayUrl{};
}

void bad(const std::string& s) {
  auto r = parse_relay_url(s);
  EXPECT_FALSE(r) << s << " was accepted as " << (r ? r.url->normalized : "");
  if (!r) {
    EXPECT_FALSE(r.error.empty());
  }
}

TEST(RelayUrl, PlainWssDefaults) {
  auto u = ok("wss://relay.damus.io");
  EXPECT_EQ(u.scheme, "wss");
  EXPECT_EQ(u.host, "relay.damus.io");
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.target, "/");
  EXPECT_EQ(u.normalized, "wss://relay.damus.io/");
  EXPECT_TRUE(u.tls());
  EXPECT_FALSE(u.host_is_ip);
  EXPECT_EQ(u.host_header(), "relay.damus.io");
}

TEST(RelayUrl, WsDefaultPort80) {
  auto u = ok("ws://example.com/");
  EXPECT_EQ(u.port, 80);
  EXPECT_FALSE(u.tls());
  EXPECT_EQ(u.normalized, "ws://example.com/");
}

TEST(RelayUrl, LowercasesSchemeAndHostButNotPath) {
  auto u = ok("WSS://Relay.Example.COM/Path/X?Q=Y");
  EXPECT_EQ(u.scheme, "wss");
  EXPECT_EQ(u.host, "relay.example.com");
  EXPECT_EQ(u.target, "/Path/X?Q=Y");
  EXPECT_EQ(u.normalized, "wss://relay.example.com/Path/X?Q=Y");
}

TEST(RelayUrl, DropsDefaultPortsKeepsOthers) {
  EXPECT_EQ(ok("wss://a.example:443").normalized, "wss://a.example/");
  EXPECT_EQ(ok("ws://a.example:80/x").normalized, "ws://a.example/x");
  auto u = ok("wss://a.example:80");
  EXPECT_EQ(u.port, 80);
  EXPECT_EQ(u.normalized, "wss://a.example:80/");
  EXPECT_EQ(u.host_header(), "a.example:80");
  auto v = ok("ws://a.example:443/");
  EXPECT_EQ(v.port, 443);
  EXPECT_EQ(v.normalized, "ws://a.example:443/");
  EXPECT_EQ(ok("ws://a.example:7777").port, 7777);
}

TEST(RelayUrl, QueryWithoutPathGetsSlash) {
  auto u = ok("wss://a.example?x=1");
  EXPECT_EQ(u.target, "/?x=1");
  EXPECT_EQ(u.normalized, "wss://a.example/?x=1");
}

TEST(RelayUrl, Ipv4Literal) {
  auto u = ok("ws://127.0.0.1:7000/r");
  EXPECT_TRUE(u.host_is_ip);
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 7000);
  EXPECT_EQ(u.host_header(), "127.0.0.1:7000");
}

TEST(RelayUrl, Ipv6LiteralInBrackets) {
  auto u = ok("wss://[2001:DB8::0001]:8443/r");
  EXPECT_TRUE(u.host_is_ip);
  EXPECT_EQ(u.host, "2001:db8::1");
  EXPECT_EQ(u.port, 8443);
  EXPECT_EQ(u.normalized, "wss://[2001:db8::1]:8443/r");
  EXPECT_EQ(u.host_header(), "[2001:db8::1]:8443");
  EXPECT_EQ(ok("ws://[::1]").normalized, "ws://[::1]/");
}

TEST(RelayUrl, RejectsOtherSchemes) {
  bad("http://example.com");
  bad("https://example.com");
  bad("wsx://example.com");
  bad("example.com");
  bad("//example.com");
  bad("");
}

TEST(RelayUrl, RejectsUserinfoAndFragments) {
  bad("wss://user@example.com");
  bad("wss://user:pw@example.com/");
  bad("wss://example.com/#frag");
  bad("wss://example.com#");
}

TEST(RelayUrl, RejectsBadHosts) {
  bad("wss://");
  bad("wss:///path");
  bad("wss://:443/");
  bad("wss://exa mple.com");
  bad("wss://exa$mple.com");
  bad("wss://.example.com");
  bad("wss://a..b");
  bad("wss://[::1");
  bad("wss://[not-v6]/");
  bad("wss://[fe80::1%eth0]/");
  bad("wss://[::1]x/");
  bad("wss://example.com\n");
}

TEST(RelayUrl, RejectsBadPorts) {
  bad("wss://example.com:");
  bad("wss://example.com:0");
  bad("wss://example.com:65536");
  bad("wss://example.com:123456");
  bad("wss://example.com:-1");
  bad("wss://example.com:12a");
  bad("wss://[::1]:");
  EXPECT_EQ(ok("wss://example.com:65535").port, 65535);
}

TEST(RelayUrl, NormalizedFormIsAFixedPoint) {
  for (const char* s : {"WSS://X.Example:443", "ws://[::FFFF:1.2.3.4]:81/a?b", "wss://h.example/p?q=1&r=2"}) {
    auto a = ok(s);
    auto b = ok(a.normalized);
    EXPECT_EQ(a.normalized, b.normalized) << s;
  }
}

}  // namespace
}  // namespace pb::net
