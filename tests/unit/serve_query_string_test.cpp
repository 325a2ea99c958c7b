// pb_serve pieces without I/O: the REST query-string filter and cursor, event rules, wire messages.
#include <gtest/gtest.h>

#include "serve/event_rules.hpp"
#include "serve/query_string_filter.hpp"
#include "serve/wire.hpp"

namespace pb::serve {
namespace {

TEST(ServeQueryString, BuildsTheFilter) {
  const auto q = filter_from_query({{"kinds", "1,7"}, {"#t", "art,news"}, {"since", "10"}, {"limit", "3"}});
  ASSERT_FALSE(q.error) << *q.error;
  EXPECT_EQ(q.filter.kinds, (std::vector<std::int32_t>{1, 7}));
  ASSERT_EQ(q.filter.tags.size(), 1u);
  EXPECT_EQ(q.filter.tags[0].name, 't');
  EXPECT_EQ(q.filter.tags[0].values, (std::vector<std::string>{"art", "news"}));
  EXPECT_EQ(q.filter.since, 10);
  EXPECT_EQ(q.filter.limit, 3);
}

TEST(ServeQueryString, RefusesBadInput) {
  EXPECT_TRUE(filter_from_query({{"limit", "-1"}}).error->starts_with("invalid:"));
  EXPECT_TRUE(filter_from_query({{"kinds", "x"}}).error->starts_with("invalid:"));
  EXPECT_TRUE(filter_from_query({{"search", "x"}}).error->starts_with("unsupported:"));
  EXPECT_TRUE(filter_from_query({{"cursor", "12"}}).error->starts_with("invalid:"));
}

TEST(ServeQueryString, CursorRoundTrips) {
  ScanKey k{1700000000, {}};
  k.id[0] = 0xab;
  k.id[31] = 0x01;
  const auto back = parse_cursor(cursor_text(k));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->created_at, k.created_at);
  EXPECT_EQ(back->id, k.id);
  EXPECT_FALSE(parse_cursor("1:zz"));
}

TEST(ServeEventRules, AddressesAndExpiry) {
  Event ev;
  EventHead h;
  ev.kind = 30023;
  ev.tags = {{"t", "x"}, {"d"}, {"d", "slug"}, {"d", "other"}, {"expiration", "100"}};
  head_of(ev, h);
  EXPECT_EQ(d_tag(h), "slug");  // a d tag without a value is passed over
  EXPECT_EQ(*address_of(h), "30023:" + std::string(64, '0') + ":slug");
  EXPECT_TRUE(expired(h, 100));
  EXPECT_FALSE(expired(h, 99));
  ev.kind = 10002;
  head_of(ev, h);
  EXPECT_EQ(*address_of(h), "10002:" + std::string(64, '0') + ":");
  ev.kind = 1;
  head_of(ev, h);
  EXPECT_FALSE(address_of(h));
  ev.tags = {{"expiration", "soon"}, {"expiration", "7"}};
  head_of(ev, h);
  EXPECT_FALSE(expired(h, 6));  // a malformed value is ignored; the next one counts
  EXPECT_TRUE(expired(h, 7));
  ev.tags = {{"expiration", "soon"}};
  head_of(ev, h);
  EXPECT_FALSE(expired(h, 1'000'000'000'000));
}

TEST(ServeWire, EscapesSubscriptionIds) {
  EXPECT_EQ(eose_message("a\"b\n"), R"(["EOSE","a\"b\n"])");
  EXPECT_EQ(closed_message("s", "invalid: x"), R"(["CLOSED","s","invalid: x"])");
  EXPECT_EQ(count_message("c", 7), R"(["COUNT","c",{"count":7}])");
  EXPECT_EQ(ok_message("ab", false, "blocked: read-only archive"), R"(["OK","ab",false,"blocked: read-only archive"])");
}

}  // namespace
}  // namespace pb::serve
