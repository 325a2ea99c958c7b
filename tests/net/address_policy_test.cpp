#include "net/address_policy.hpp"

#include <gtest/gtest.h>

namespace pb::net {
namespace {

AddressClass cls(const char* s) { return classify_address(boost::asio::ip::make_address(s)).cls; }

TEST(AddressPolicy, Ipv4Classes) {
  EXPECT_EQ(cls("8.8.8.8"), AddressClass::public_unicast);
  EXPECT_EQ(cls("1.1.1.1"), AddressClass::public_unicast);
  EXPECT_EQ(cls("127.0.0.1"), AddressClass::loopback);
  EXPECT_EQ(cls("127.255.0.9"), AddressClass::loopback);
  EXPECT_EQ(cls("10.1.2.3"), AddressClass::private_net);
  EXPECT_EQ(cls("172.16.0.1"), AddressClass::private_net);
  EXPECT_EQ(cls("172.31.255.255"), AddressClass::private_net);
  EXPECT_EQ(cls("172.32.0.1"), AddressClass::public_unicast);
  EXPECT_EQ(cls("172.15.255.255"), AddressClass::public_unicast);
  EXPECT_EQ(cls("192.168.1.1"), AddressClass::private_net);
  EXPECT_EQ(cls("169.254.169.254"), AddressClass::link_local);
  EXPECT_EQ(cls("100.64.0.1"), AddressClass::cgnat);
  EXPECT_EQ(cls("100.127.255.255"), AddressClass::cgnat);
  EXPECT_EQ(cls("100.128.0.1"), AddressClass::public_unicast);
  EXPECT_EQ(cls("224.0.0.1"), AddressClass::multicast);
  EXPECT_EQ(cls("239.255.255.250"), AddressClass::multicast);
  EXPECT_EQ(cls("0.0.0.0"), AddressClass::unspecified);
  EXPECT_EQ(cls("255.255.255.255"), AddressClass::broadcast);
  EXPECT_EQ(cls("0.1.2.3"), AddressClass::reserved);
  EXPECT_EQ(cls("240.0.0.1"), AddressClass::reserved);
  EXPECT_EQ(cls("192.0.2.5"), AddressClass::reserved);
  EXPECT_EQ(cls("198.51.100.5"), AddressClass::reserved);
  EXPECT_EQ(cls("203.0.113.5"), AddressClass::reserved);
  EXPECT_EQ(cls("198.18.0.1"), AddressClass::reserved);
  EXPECT_EQ(cls("198.19.255.255"), AddressClass::reserved);
  EXPECT_EQ(cls("198.20.0.1"), AddressClass::public_unicast);
}

TEST(AddressPolicy, Ipv6Classes) {
  EXPECT_EQ(cls("2606:4700:4700::1111"), AddressClass::public_unicast);
  EXPECT_EQ(cls("::1"), AddressClass::loopback);
  EXPECT_EQ(cls("::"), AddressClass::unspecified);
  EXPECT_EQ(cls("fe80::1"), AddressClass::link_local);
  EXPECT_EQ(cls("febf::1"), AddressClass::link_local);
  EXPECT_EQ(cls("fc00::1"), AddressClass::unique_local);
  EXPECT_EQ(cls("fd12:3456::1"), AddressClass::unique_local);
  EXPECT_EQ(cls("ff02::1"), AddressClass::multicast);
  EXPECT_EQ(cls("2001:db8::1"), AddressClass::reserved);
  EXPECT_EQ(cls("2002:0a00:0001::1"), AddressClass::reserved);
  EXPECT_EQ(cls("100::1"), AddressClass::reserved);       // discard prefix, outside 2000::/3
  EXPECT_EQ(cls("::0102:0304"), AddressClass::reserved);  // deprecated IPv4-compatible
}

TEST(AddressPolicy, V4MappedAndNat64UseEmbeddedAddress) {
  EXPECT_EQ(cls("::ffff:127.0.0.1"), AddressClass::loopback);
  EXPECT_EQ(cls("::ffff:10.0.0.1"), AddressClass::private_net);
  EXPECT_EQ(cls("::ffff:169.254.169.254"), AddressClass::link_local);
  EXPECT_EQ(cls("::ffff:8.8.8.8"), AddressClass::public_unicast);
  EXPECT_EQ(cls("64:ff9b::192.168.0.1"), AddressClass::private_net);
  EXPECT_EQ(cls("64:ff9b::8.8.4.4"), AddressClass::public_unicast);
}

TEST(AddressPolicy, IsPublicAndReason) {
  EXPECT_TRUE(is_public(boost::asio::ip::make_address("93.184.216.34")));
  EXPECT_FALSE(is_public(boost::asio::ip::make_address("192.168.0.1")));
  const auto v = classify_address(boost::asio::ip::make_address("127.0.0.1"));
  EXPECT_EQ(v.reason, "loopback");
  EXPECT_EQ(classify_address(boost::asio::ip::make_address("8.8.8.8")).reason, "public");
}

TEST(AddressPolicy, RefusedHostNames) {
  EXPECT_FALSE(refused_host("relay.damus.io").has_value());
  EXPECT_FALSE(refused_host("8.8.8.8").has_value());
  EXPECT_FALSE(refused_host("[2606:4700:4700::1111]").has_value());
  EXPECT_TRUE(refused_host("localhost").has_value());
  EXPECT_TRUE(refused_host("LOCALHOST.").has_value());
  EXPECT_TRUE(refused_host("foo.localhost").has_value());
  EXPECT_TRUE(refused_host("printer.local").has_value());
  EXPECT_TRUE(refused_host("abcdefghijklmnop.onion").has_value());
  EXPECT_TRUE(refused_host("ONION").has_value());
  EXPECT_TRUE(refused_host("127.0.0.1").has_value());
  EXPECT_TRUE(refused_host("[::1]").has_value());
  EXPECT_TRUE(refused_host("10.0.0.8").has_value());
  EXPECT_TRUE(refused_host("").has_value());
  EXPECT_NE(refused_host("x.onion")->find("onion"), std::string::npos);
  // Names that merely contain the words are fine.
  EXPECT_FALSE(refused_host("local.example.com").has_value());
  EXPECT_FALSE(refused_host("onion.example.com").has_value());
  EXPECT_FALSE(refused_host("notlocalhost.com").has_value());
}

}  // namespace
}  // namespace pb::net
