// RowBinary encoding and range checks of the ClickHouse importer, against hand-checked bytes.
#include <gtest/gtest.h>

#include "clickhouse/http_client.hpp"
#include "clickhouse/row_binary.hpp"
#include "clickhouse/table_layout.hpp"

namespace pb::ch {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(ClickHouseRowBinary, Leb128) {
  std::string out;
  append_leb128(out, 0);
  append_leb128(out, 127);
  append_leb128(out, 128);
  append_leb128(out, 300);
  EXPECT_EQ(out, bytes({0x00, 0x7f, 0x80, 0x01, 0xac, 0x02}));
}

TEST(ClickHouseRowBinary, HandCheckedRow) {
  Event ev;
  ev.id.fill(0xab);
  ev.pubkey.fill(0x01);
  ev.sig.fill(0xff);
  ev.created_at = 0x0102030405;
  ev.kind = 0x1234;
  ev.tags = {{"p", "xy"}, {}};
  ev.content = std::string("a\0b", 3);
  std::string out;
  encode_event(out, ev, RowLayout{});  // FixedString hex, Int64, UInt16
  std::string expected;
  for (int i = 0; i < 32; ++i) expected += "ab";                                   // id: 64 hex bytes, no length
  for (int i = 0; i < 32; ++i) expected += "01";                                   // pubkey
  expected += bytes({0x05, 0x04, 0x03, 0x02, 0x01, 0x00, 0x00, 0x00});             // created_at Int64 LE
  expected += bytes({0x34, 0x12});                                                 // kind UInt16 LE
  expected += bytes({0x02, 0x02, 0x01, 'p', 0x02, 'x', 'y', 0x00});                // tags: 2 tags: ["p","xy"], []
  expected += bytes({0x03, 'a', 0x00, 'b'});                                       // content with NUL
  for (int i = 0; i < 64; ++i) expected += "ff";                                   // sig: 128 hex bytes
  EXPECT_EQ(out, expected);
}

TEST(ClickHouseRowBinary, StringHexAndNarrowInts) {
  Event ev;
  ev.created_at = 1700000000;
  ev.kind = 7;
  RowLayout layout;
  layout.id = HexColumn{false};
  layout.pubkey = HexColumn{false};
  layout.sig = HexColumn{false};
  layout.created_at = *parse_int_column("DateTime");
  layout.kind = *parse_int_column("Int32");
  std::string out;
  encode_event(out, ev, layout);
  ASSERT_EQ(out.size(), 1 + 64 + 1 + 64 + 4 + 4 + 1 + 1 + 2 + 128);
  EXPECT_EQ(out[0], 64);
  EXPECT_EQ(out.substr(130, 4), bytes({0x00, 0xf1, 0x53, 0x65}));  // 1700000000 = 0x6553f100
  EXPECT_EQ(out.substr(134, 4), bytes({7, 0, 0, 0}));
  EXPECT_EQ(out.substr(140, 2), bytes({0x80, 0x01}));  // sig String length 128
}

TEST(ClickHouseRowBinary, ParseColumnTypes) {
  EXPECT_EQ(parse_int_column("UInt16")->max, 65535);
  EXPECT_EQ(parse_int_column("UInt16")->bytes, 2);
  EXPECT_EQ(parse_int_column("Int8")->min, -128);
  EXPECT_EQ(parse_int_column("Int64")->min, INT64_MIN);
  EXPECT_EQ(parse_int_column("UInt64")->max, INT64_MAX);
  EXPECT_EQ(parse_int_column("DateTime")->max, 4294967295);
  EXPECT_FALSE(parse_int_column("Int12"));
  EXPECT_FALSE(parse_int_column("Nullable(Int64)"));
  EXPECT_FALSE(parse_int_column("String"));
  EXPECT_TRUE(parse_hex_column("FixedString(64)", 64)->fixed);
  EXPECT_FALSE(parse_hex_column("String", 64)->fixed);
  EXPECT_FALSE(parse_hex_column("FixedString(32)", 64));
  EXPECT_FALSE(parse_hex_column("LowCardinality(String)", 64));
}

TEST(ClickHouseRowBinary, RangeChecks) {
  RowLayout layout;
  Event ev;
  EXPECT_FALSE(check_event(ev, layout));
  ev.kind = 65535;
  ev.created_at = INT64_MAX;
  EXPECT_FALSE(check_event(ev, layout));
  ev.kind = 65536;
  EXPECT_EQ(check_event(ev, layout), "kind");
  ev.kind = -1;
  EXPECT_EQ(check_event(ev, layout), "kind");
  ev.kind = 1;
  ev.created_at = -1;
  EXPECT_EQ(check_event(ev, layout), "created_at");
  // A DateTime column cannot hold 2106-02-07 06:28:16 or later: refuse instead of wrapping.
  layout.created_at = *parse_int_column("DateTime");
  ev.created_at = 4294967295;
  EXPECT_FALSE(check_event(ev, layout));
  ev.created_at = 4294967296;
  EXPECT_EQ(check_event(ev, layout), "created_at");
  // A narrower kind column than the brief's range.
  layout.kind = *parse_int_column("Int8");
  ev.created_at = 0;
  ev.kind = 200;
  EXPECT_EQ(check_event(ev, layout), "kind");
}

TEST(ClickHouseHttp, ClassifiesFailures) {
  HttpResponse r;
  r.status = 200;
  EXPECT_EQ(classify(r), Outcome::ok);
  r.status = 0;
  r.curl_code = 7;  // couldn't connect
  EXPECT_EQ(classify(r), Outcome::transient);
  r.curl_code = 60;  // TLS peer verification failed: a configuration problem, not worth retrying
  EXPECT_EQ(classify(r), Outcome::fatal);
  r.curl_code = 0;
  r.status = 503;
  EXPECT_EQ(classify(r), Outcome::transient);
  r.status = 500;
  r.body = "Code: 252, e.displayText() = DB::Exception: Too many parts (300)";
  EXPECT_EQ(server_error_code(r.body), 252);
  EXPECT_EQ(classify(r), Outcome::transient);
  r.body = "Code: 60, e.displayText() = DB::Exception: Table nostr.nope doesn't exist.";
  EXPECT_EQ(classify(r), Outcome::fatal);
  EXPECT_NE(describe_failure(r).find("doesn't exist"), std::string::npos);
  r.status = 404;
  r.body = "no code here";
  EXPECT_EQ(server_error_code(r.body), -1);
  EXPECT_EQ(classify(r), Outcome::fatal);
}

TEST(ClickHouseSql, QuotingAndVersions) {
  EXPECT_EQ(sql_string("it's \\"), "'it\\'s \\\\'");
  EXPECT_EQ(sql_identifier("a`b"), "`a\\`b`");
  EXPECT_TRUE(parse_server_version("18.16.1").at_least(18, 16));
  EXPECT_FALSE(parse_server_version("18.16.1").at_least(21, 11));
  EXPECT_TRUE(parse_server_version("24.3.2.23").at_least(21, 11));
  EXPECT_FALSE(parse_server_version("garbage").at_least(1, 0));
}

}  // namespace
}  // namespace pb::ch
