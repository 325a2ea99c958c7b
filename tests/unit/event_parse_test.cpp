// Strict NIP-01 parsing: each rule and its rejection category.
#include <gtest/gtest.h>

#include "nostr/json_parse.hpp"
#include "nostr/validate.hpp"
#include "test_support.hpp"

namespace pb {
namespace {

const std::string kId(64, 'a');
const std::string kPk = "7776c32d4b1d1e8bf2a96babeb43ad9ade157bd363d89b87fb63e6f145558888";
const std::string kSig(128, 'b');

// An event line with one field's raw JSON replaced (or removed when the value is empty).
std::string line_with(const std::string& field, const std::string& raw) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"id", "\"" + kId + "\""}, {"pubkey", "\"" + kPk + "\""}, {"created_at", "1700000000"}, {"kind", "1"},
      {"tags", "[[\"p\",\"x\"]]"}, {"content", "\"hello\""}, {"sig", "\"" + kSig + "\""}};
  std::string out = "{";
  bool first = true;
  for (auto& [k, v] : fields) {
    std::string value = k == field ? raw : v;
    if (value.empty()) continue;
    if (!first) out += ",";
    first = false;
    out += "\"" + k + "\":" + value;
  }
  return out + "}";
}

std::optional<Rejection> parse(const std::string& line) {
  EventParser p;
  Event ev;
  return p.parse(line, ev);
}

void expect_reject(const std::string& line, RejectCategory cat, const std::string& mentions) {
  const auto r = parse(line);
  ASSERT_TRUE(r.has_value()) << line;
  EXPECT_EQ(category_name(r->category), category_name(cat)) << line << " -> " << r->message;
  EXPECT_NE(r->message.find(mentions), std::string::npos) << r->message;
}

TEST(EventParse, WellFormedEventParses) {
  EventParser p;
  Event ev;
  ASSERT_FALSE(p.parse(line_with("", ""), ev).has_value());
  EXPECT_EQ(ev.created_at, 1700000000);
  EXPECT_EQ(ev.kind, 1);
  ASSERT_EQ(ev.tags.size(), 1u);
  EXPECT_EQ(ev.tags[0], (Tag{"p", "x"}));
  EXPECT_EQ(ev.content, "hello");
}

TEST(EventParse, MalformedJsonAndNonObjects) {
  expect_reject("{", RejectCategory::invalid_json, "malformed JSON");
  expect_reject("[1,2]", RejectCategory::invalid_json, "not an object");
  expect_reject("\"x\"", RejectCategory::invalid_json, "not an object");
  expect_reject(line_with("content", "\"\xff\xfe\""), RejectCategory::invalid_json, "malformed JSON");
  expect_reject(line_with("", "") + "x", RejectCategory::invalid_json, "malformed JSON");
}

TEST(EventParse, EachMissingFieldIsNamed) {
  for (const char* f : {"id", "pubkey", "created_at", "kind", "tags", "content", "sig"})
    expect_reject(line_with(f, ""), RejectCategory::invalid_field, std::string("missing field \"") + f + "\"");
}

TEST(EventParse, HexFields) {
  expect_reject(line_with("id", "\"" + std::string(64, 'A') + "\""), RejectCategory::invalid_field, "id must be 64 lowercase hex");
  expect_reject(line_with("id", "\"" + std::string(63, 'a') + "\""), RejectCategory::invalid_field, "id must be 64");
  expect_reject(line_with("pubkey", "\"" + std::string(64, 'g') + "\""), RejectCategory::invalid_field, "pubkey must be 64");
  expect_reject(line_with("sig", "\"" + std::string(130, 'b') + "\""), RejectCategory::invalid_field, "sig must be 128");
  expect_reject(line_with("id", "123"), RejectCategory::invalid_field, "id must be a string");
}

TEST(EventParse, CreatedAt) {
  expect_reject(line_with("created_at", "-1"), RejectCategory::invalid_field, "created_at must not be negative");
  expect_reject(line_with("created_at", "1.5"), RejectCategory::invalid_field, "created_at");
  expect_reject(line_with("created_at", "\"1700000000\""), RejectCategory::invalid_field, "created_at");
  expect_reject(line_with("created_at", "18446744073709551615"), RejectCategory::invalid_field, "too large");
  EXPECT_FALSE(parse(line_with("created_at", "0")).has_value());
  EXPECT_FALSE(parse(line_with("created_at", "9223372036854775807")).has_value());
}

TEST(EventParse, Kind) {
  EXPECT_FALSE(parse(line_with("kind", "0")).has_value());
  EXPECT_FALSE(parse(line_with("kind", "65535")).has_value());
  expect_reject(line_with("kind", "65536"), RejectCategory::invalid_kind, "outside 0..65535");
  expect_reject(line_with("kind", "-1"), RejectCategory::invalid_kind, "outside");
  expect_reject(line_with("kind", "99999999999999999999"), RejectCategory::invalid_json, "malformed");
  expect_reject(line_with("kind", "1.0"), RejectCategory::invalid_kind, "integer");
  expect_reject(line_with("kind", "\"1\""), RejectCategory::invalid_field, "kind must be a number");
}

TEST(EventParse, Tags) {
  EXPECT_FALSE(parse(line_with("tags", "[]")).has_value());
  EXPECT_FALSE(parse(line_with("tags", "[[]]")).has_value());
  expect_reject(line_with("tags", "{}"), RejectCategory::invalid_tag_value, "tags must be an array");
  expect_reject(line_with("tags", "[\"p\"]"), RejectCategory::invalid_tag_value, "tags[0] must be an array");
  expect_reject(line_with("tags", "[[\"R\",\"pow\",0]]"), RejectCategory::invalid_tag_value, "tags[0][2] must be a string");
  expect_reject(line_with("tags", "[[\"p\"],[null]]"), RejectCategory::invalid_tag_value, "tags[1][0]");
}

TEST(EventParse, ContentAndUtf8) {
  expect_reject(line_with("content", "null"), RejectCategory::invalid_field, "content must be a string");
  EventParser p;
  Event ev;
  ASSERT_FALSE(p.parse(line_with("content", "\"a\\u0000b\""), ev).has_value());
  EXPECT_EQ(ev.content, std::string("a\0b", 3));  // NUL kept, not a terminator
  // Lone surrogates cannot become UTF-8.
  expect_reject(line_with("content", "\"\\ud800\""), RejectCategory::invalid_json, "lone surrogate");
  expect_reject(line_with("content", "\"\\udc00x\""), RejectCategory::invalid_json, "lone surrogate");
  expect_reject(line_with("tags", "[[\"\\ud83d\"]]"), RejectCategory::invalid_json, "lone surrogate");
  ASSERT_FALSE(p.parse(line_with("content", "\"\\ud83d\\ude00\""), ev).has_value());
  EXPECT_EQ(ev.content, "😀");
}

TEST(EventParse, UnknownFieldsIgnoredDuplicateKnownFieldsRejected) {
  std::string line = line_with("", "");
  line.insert(1, "\"extra\":{\"nested\":[1,2]},\"extra\":3,");
  EXPECT_FALSE(parse(line).has_value());
  std::string dup = line_with("", "");
  dup.insert(1, "\"kind\":2,");
  expect_reject(dup, RejectCategory::invalid_field, "duplicate key \"kind\"");
}

TEST(EventParse, RealSample141ValidAnd9InvalidTagValue) {
  const auto lines = test::read_lines(test::data_path("sample_events.jsonl"));
  ASSERT_EQ(lines.size(), 150u);
  EventParser parser;
  EventValidator validator;
  Event ev;
  int valid = 0, tag_value = 0, other = 0;
  for (const auto& line : lines) {
    auto r = parser.parse(line, ev);
    if (!r) r = validator.validate(ev);
    if (!r) {
      ++valid;
    } else if (r->category == RejectCategory::invalid_tag_value) {
      ++tag_value;
      EXPECT_NE(line.find("[\"R\", \"pow\", "), std::string::npos) << r->message;
    } else {
      ++other;
      ADD_FAILURE() << category_name(r->category) << ": " << r->message;
    }
  }
  EXPECT_EQ(valid, 141);
  EXPECT_EQ(tag_value, 9);
  EXPECT_EQ(other, 0);
}

TEST(EventValidate, TamperingIsCaughtWithTheRightCategory) {
  const auto lines = test::read_lines(test::data_path("sample_events.jsonl"));
  EventParser parser;
  EventValidator validator;
  Event ev;
  ASSERT_FALSE(parser.parse(lines[0], ev).has_value());
  ASSERT_FALSE(validator.validate(ev).has_value());

  Event bad = ev;
  bad.content += "!";
  auto r = validator.validate(bad);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->category, RejectCategory::invalid_event_id);

  bad = ev;
  bad.sig[10] ^= 1;
  r = validator.validate(bad);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->category, RejectCategory::invalid_signature);

  // With id checks off, a wrong id still cannot pass the signature check.
  EventValidator sig_only({.check_ids = false, .check_signatures = true});
  bad = ev;
  bad.content += "!";
  r = sig_only.validate(bad);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->category, RejectCategory::invalid_signature);
  EventValidator none({.check_ids = false, .check_signatures = false});
  EXPECT_FALSE(none.validate(bad).has_value());
}

}  // namespace
}  // namespace pb
