// NIP-11 documents as relays on the network may write them (nip11_info.hpp), and the page-size clamp they
// lead to, down to the pager's verdicts (history_pager.hpp).
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "daemon/history_pager.hpp"
#include "daemon/nip11_info.hpp"

namespace pb::daemon {
namespace {

// The max_limit a document with this `limitation` yields. A number simdjson cannot represent at all
// (1e400) makes the whole document unreadable: no document, no max_limit either way.
std::optional<std::uint64_t> max_limit_of(const std::string& limitation) {
  auto info = parse_relay_info(R"({"name":"r","limitation":)" + limitation + "}");
  return info ? info->max_limit : std::nullopt;
}

TEST(Nip11Info, ReadsTheFieldsWeUse) {
  const auto info = parse_relay_info(R"({"name":"Relay One","description":"x","software":"git+https://example.com/r",
    "supported_nips":[1,11],"limitation":{"max_limit":300,"auth_required":false,"payment_required":true,"max_subscriptions":20},
    "fees":{"admission":[{"amount":1000,"unit":"msats"}]}})");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->name, "Relay One");
  EXPECT_EQ(info->software, "git+https://example.com/r");
  EXPECT_EQ(info->max_limit, 300u);
  EXPECT_FALSE(info->auth_required);
  EXPECT_TRUE(info->payment_required);
}

TEST(Nip11Info, NotAnObjectIsNoDocument) {
  for (const char* body : {"", "null", "[]", "[{\"limitation\":{\"max_limit\":5}}]", "\"relay\"", "42", "true",
                           "<html>Bad gateway</html>", "{\"name\":\"cut", "{\"a\":1}{\"b\":2}", "{\"a\":1,}"})
    EXPECT_FALSE(parse_relay_info(body)) << body;
}

TEST(Nip11Info, OversizedDocumentIsNoDocument) {
  const std::string pad(kMaxInfoBytes, ' ');
  EXPECT_TRUE(parse_relay_info("{}" + pad.substr(2)));
  EXPECT_FALSE(parse_relay_info("{}" + pad));
}

TEST(Nip11Info, EmptyObjectHasNothing) {
  const auto info = parse_relay_info(" { } \n");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->name, "");
  EXPECT_FALSE(info->max_limit);
  EXPECT_FALSE(info->auth_required || info->payment_required);
}

TEST(Nip11Info, MaxLimitMustBeAPositiveInteger) {
  EXPECT_EQ(max_limit_of(R"({"max_limit":1})"), 1u);
  EXPECT_EQ(max_limit_of(R"({"max_limit":9223372036854775807})"), 9223372036854775807u);
  for (const char* bad : {R"({"max_limit":0})", R"({"max_limit":-100})", R"({"max_limit":-9223372036854775808})",
                          R"({"max_limit":9223372036854775808})", R"({"max_limit":18446744073709551615})",
                          R"({"max_limit":1e400})", R"({"max_limit":100000000000000000000000000000})",
                          R"({"max_limit":2.5})", R"({"max_limit":1e2})", R"({"max_limit":"500"})",
                          R"({"max_limit":null})", R"({"max_limit":true})", R"({"max_limit":[500]})",
                          R"({"max_limit":{"v":500}})", R"({})"})
    EXPECT_FALSE(max_limit_of(bad)) << bad;
}

TEST(Nip11Info, FieldsOfTheWrongTypeAreIgnoredOneByOne) {
  const auto info = parse_relay_info(R"({"name":123,"software":["x"],"limitation":{"max_limit":"9",
    "auth_required":"true","payment_required":1}})");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->name, "");
  EXPECT_EQ(info->software, "");
  EXPECT_FALSE(info->max_limit);
  EXPECT_FALSE(info->auth_required);
  EXPECT_FALSE(info->payment_required);
  for (const char* limitation : {"[]", "null", "\"none\"", "500"}) {
    const auto i = parse_relay_info(std::string(R"({"name":"n","limitation":)") + limitation + "}");
    ASSERT_TRUE(i) << limitation;
    EXPECT_EQ(i->name, "n");
    EXPECT_FALSE(i->max_limit);
  }
}

TEST(Nip11Info, AuthRequiredAndRequirementsOnlyWhenTrue) {
  auto info = parse_relay_info(R"({"limitation":{"auth_required":true}})");
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->auth_required);
  EXPECT_FALSE(info->payment_required);
}

TEST(Nip11Info, LongTextIsCutAtACharacterBoundary) {
  std::string name;
  for (int i = 0; i < 100; ++i) name += "\xc3\xa9";  // "é": two bytes each
  const auto info = parse_relay_info("{\"name\":\"a" + name + "\",\"software\":\"" + std::string(500, 's') + "\"}");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->name.size(), kMaxInfoText - 1);  // 'a' + 63 whole characters, not half of the 64th
  EXPECT_EQ(info->name, "a" + name.substr(0, kMaxInfoText - 2));
  EXPECT_EQ(info->software, std::string(kMaxInfoText, 's'));
}

TEST(Nip11Info, InvalidUtf8IsNoDocument) {
  EXPECT_FALSE(parse_relay_info("{\"name\":\"\xff\xfe\"}"));
}

TEST(Nip11PageClamp, MaxLimitBelowPageSizeWins) {
  EXPECT_EQ(clamp_page_size(500, 100), 100u);
  EXPECT_EQ(clamp_page_size(500, 500), 500u);
  EXPECT_EQ(clamp_page_size(500, 5000), 500u);  // asking below the relay's cap is always safe
  EXPECT_EQ(clamp_page_size(500, std::nullopt), 500u);
  EXPECT_EQ(clamp_page_size(500, 1), 1u);
}

// With the clamp a page of max_limit events is full and paging goes on; without it the same page would
// read as the last one (the documented gap before NIP-11 was fetched).
TEST(Nip11PageClamp, APageOfMaxLimitEventsIsFull) {
  const std::uint64_t limit = clamp_page_size(500, 100);
  HistoryPager clamped(0, limit), unclamped(0, 500);
  for (std::int64_t t = 1000; t > 900; --t) clamped.event(t), unclamped.event(t);
  const PageStep s = clamped.end_page();
  EXPECT_EQ(s.verdict, PageVerdict::more);
  EXPECT_EQ(s.until, 901);
  EXPECT_EQ(unclamped.end_page().verdict, PageVerdict::complete);
}

}  // namespace
}  // namespace pb::daemon
