// NIP-01 filters: parsing (what is invalid, what is unsupported), matching rule by rule, JSON round
// trip, and a randomized cross-check of matching against nostr-tools' matchFilter (the oracle the
// server's tests use too).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "nostr/canonical.hpp"
#include "nostr/filter.hpp"
#include "nostr/hex.hpp"
#include "nostr/json_writer.hpp"
#include "test_support.hpp"

namespace pb {
namespace {

Id32 id_of(std::uint8_t b) {
  Id32 id{};
  id.fill(b);
  return id;
}

std::string hex_of(std::uint8_t b) { return to_hex(id_of(b)); }

Event sample_event() {
  Event ev;
  ev.id = id_of(0x11);
  ev.pubkey = id_of(0x22);
  ev.created_at = 1700000000;
  ev.kind = 1;
  ev.tags = {{"e", "abc", "wss://relay"}, {"p", hex_of(0x33)}, {"t", "nostr"}, {"expiration"}, {"ee", "abc"}};
  ev.content = "hello";
  return ev;
}

Filter must_parse(const std::string& json) {
  auto r = parse_filter_json(json);
  EXPECT_TRUE(r.filter) << json << ": " << (r.error ? r.error->with_prefix() : "");
  return r.filter.value_or(Filter{});
}

FilterError must_fail(const std::string& json) {
  auto r = parse_filter_json(json);
  EXPECT_FALSE(r.filter) << json;
  return r.error.value_or(FilterError{});
}

TEST(NostrFilter, EmptyFilterMatchesEverything) {
  EXPECT_TRUE(must_parse("{}").matches(sample_event()));
}

TEST(NostrFilter, EachConditionAlone) {
  const Event ev = sample_event();
  EXPECT_TRUE(must_parse(R"({"ids":[")" + hex_of(0x11) + R"("]})").matches(ev));
  EXPECT_FALSE(must_parse(R"({"ids":[")" + hex_of(0x12) + R"("]})").matches(ev));
  EXPECT_TRUE(must_parse(R"({"authors":[")" + hex_of(0x01) + R"(",")" + hex_of(0x22) + R"("]})").matches(ev));
  EXPECT_FALSE(must_parse(R"({"authors":[")" + hex_of(0x11) + R"("]})").matches(ev));
  EXPECT_TRUE(must_parse(R"({"kinds":[0,1,7]})").matches(ev));
  EXPECT_FALSE(must_parse(R"({"kinds":[0,7]})").matches(ev));
  EXPECT_TRUE(must_parse(R"({"since":1700000000})").matches(ev));  // inclusive
  EXPECT_FALSE(must_parse(R"({"since":1700000001})").matches(ev));
  EXPECT_TRUE(must_parse(R"({"until":1700000000})").matches(ev));  // inclusive
  EXPECT_FALSE(must_parse(R"({"until":1699999999})").matches(ev));
}

TEST(NostrFilter, TagConditionsMatchTheFirstValueOfSingleLetterTags) {
  const Event ev = sample_event();
  EXPECT_TRUE(must_parse(R"({"#e":["abc"]})").matches(ev));
  EXPECT_FALSE(must_parse(R"({"#e":["wss://relay"]})").matches(ev));  // only the first value counts
  EXPECT_TRUE(must_parse(R"({"#p":[")" + hex_of(0x33) + R"("]})").matches(ev));
  EXPECT_TRUE(must_parse(R"({"#t":["x","nostr"]})").matches(ev));
  EXPECT_FALSE(must_parse(R"({"#T":["nostr"]})").matches(ev));  // tag names are case-sensitive
  EXPECT_FALSE(must_parse(R"({"#d":[""]})").matches(ev));        // no d tag at all
  EXPECT_TRUE(must_parse(R"({"#e":["abc"],"#t":["nostr"]})").matches(ev));
  EXPECT_FALSE(must_parse(R"({"#e":["abc"],"#t":["other"]})").matches(ev));  // AND across tags
}

TEST(NostrFilter, EmptyListsMatchNothing) {
  const Event ev = sample_event();
  for (const char* json : {R"({"ids":[]})", R"({"authors":[]})", R"({"kinds":[]})", R"({"#e":[]})"}) {
    const Filter f = must_parse(json);
    EXPECT_FALSE(f.matches(ev)) << json;
    EXPECT_TRUE(f.is_empty_set()) << json;
  }
  EXPECT_TRUE(must_parse(R"({"since":10,"until":9})").is_empty_set());
  EXPECT_FALSE(must_parse(R"({"since":10,"until":10})").is_empty_set());
}

TEST(NostrFilter, ConditionsAreAndedFiltersAreOred) {
  const Event ev = sample_event();
  const Filter wrong_kind = must_parse(R"({"kinds":[7],"authors":[")" + hex_of(0x22) + R"("]})");
  const Filter right = must_parse(R"({"kinds":[1]})");
  EXPECT_FALSE(wrong_kind.matches(ev));
  const std::vector<Filter> both{wrong_kind, right};
  EXPECT_TRUE(matches_any(both, ev));
  EXPECT_FALSE(matches_any(std::span<const Filter>(both.data(), 1), ev));
  EXPECT_FALSE(matches_any({}, ev));
}

TEST(NostrFilter, LimitIsKeptButDoesNotAffectMatching) {
  const Filter f = must_parse(R"({"limit":0})");
  ASSERT_TRUE(f.limit);
  EXPECT_EQ(*f.limit, 0);
  EXPECT_TRUE(f.matches(sample_event()));
}

TEST(NostrFilter, MalformedFiltersAreInvalid) {
  for (const char* json : {
           "[]", "42", "nope", R"({"ids":"abc"})", R"({"ids":["ABC"]})",
           R"({"authors":[1]})", R"({"kinds":[-1]})", R"({"kinds":[65536]})", R"({"kinds":[1.0]})",
           R"({"kinds":["1"]})", R"({"since":-1})", R"({"until":1.5})", R"({"limit":-5})", R"({"limit":"10"})",
           R"({"#e":"abc"})", R"({"#e":[1]})", R"({"kinds":[1],"kinds":[2]})", R"({"#e":["a"],"#e":["b"]})",
           R"({"since":18446744073709551615})"}) {
    auto r = parse_filter_json(json);
    ASSERT_FALSE(r.filter) << json;
    EXPECT_EQ(r.error->kind, FilterError::Kind::invalid) << json << ": " << r.error->message;
    EXPECT_EQ(r.error->with_prefix().rfind("invalid: ", 0), 0u);
  }
  // 63 and 65 hex characters: prefixes are not NIP-01 any more.
  EXPECT_EQ(must_fail(R"({"ids":[")" + hex_of(0x11).substr(1) + R"("]})").kind, FilterError::Kind::invalid);
  EXPECT_EQ(must_fail(R"({"authors":[")" + hex_of(0x11) + R"(0"]})").kind, FilterError::Kind::invalid);
}

TEST(NostrFilter, UnknownKeysAndLongTagNamesAreUnsupported) {
  for (const char* json : {R"({"search":"x"})", R"({"#ab":["x"]})", R"({"#1":["x"]})", R"({"foo":1})"}) {
    const FilterError e = must_fail(json);
    EXPECT_EQ(e.kind, FilterError::Kind::unsupported) << json << ": " << e.message;
    EXPECT_EQ(e.with_prefix().rfind("unsupported: ", 0), 0u);
  }
}

TEST(NostrFilter, JsonRoundTrip) {
  const std::string json = R"({"ids":[")" + hex_of(0x02) + R"(",")" + hex_of(0x01) + R"("],"kinds":[7,1,7],)"
                           R"("#t":["b\"q","a\n"],"#e":["x"],"since":5,"until":9,"limit":3,"authors":[]})";
  const Filter f = must_parse(json);
  const std::string written = f.to_json();
  EXPECT_EQ(must_parse(written), f);
  // Lists come out sorted and unique, keys in a fixed order.
  EXPECT_EQ(written, R"({"ids":[")" + hex_of(0x01) + R"(",")" + hex_of(0x02) + R"("],"authors":[],"kinds":[1,7],)"
                     R"("#e":["x"],"#t":["a\n","b\"q"],"since":5,"until":9,"limit":3})");
  EXPECT_EQ(Filter{}.to_json(), "{}");
}

// ---- Randomized cross-check against nostr-tools' matchFilter -------------------------------------------

struct Case {
  std::string filter_json;
  Event event;
};

std::string random_value(std::mt19937& rng) {
  static const char* values[] = {"a", "b", "c", "", "nostr", "x y"};
  return values[rng() % 6];
}

Case random_case(std::mt19937& rng) {
  Case c;
  c.event.id = id_of(static_cast<std::uint8_t>(rng() % 4));
  c.event.pubkey = id_of(static_cast<std::uint8_t>(0x10 + rng() % 4));
  c.event.created_at = 100 + static_cast<std::int64_t>(rng() % 10);
  c.event.kind = static_cast<std::int32_t>(rng() % 4);
  const std::string names = "eptdE";
  for (unsigned i = rng() % 5; i > 0; --i) {
    Tag t{std::string(1, names[rng() % names.size()])};
    for (unsigned v = rng() % 3; v > 0; --v) t.push_back(random_value(rng));
    c.event.tags.push_back(std::move(t));
  }
  std::string f = "{";
  auto add = [&](const std::string& member) { f += (f.size() > 1 ? "," : "") + member; };
  if (rng() % 3 == 0) {
    std::string l;
    for (unsigned i = rng() % 3; i > 0; --i) l += (l.empty() ? "\"" : ",\"") + hex_of(static_cast<std::uint8_t>(rng() % 4)) + "\"";
    add("\"ids\":[" + l + "]");
  }
  if (rng() % 3 == 0) {
    std::string l;
    for (unsigned i = rng() % 3; i > 0; --i) l += (l.empty() ? "\"" : ",\"") + hex_of(static_cast<std::uint8_t>(0x10 + rng() % 4)) + "\"";
    add("\"authors\":[" + l + "]");
  }
  if (rng() % 3 == 0) {
    std::string l;
    for (unsigned i = rng() % 3; i > 0; --i) l += (l.empty() ? "" : ",") + std::to_string(rng() % 4);
    add("\"kinds\":[" + l + "]");
  }
  if (rng() % 3 == 0) add("\"since\":" + std::to_string(100 + rng() % 10));
  if (rng() % 3 == 0) add("\"until\":" + std::to_string(100 + rng() % 10));
  for (unsigned i = rng() % 3; i > 0; --i) {
    std::string l;
    for (unsigned v = rng() % 3; v > 0; --v) {
      l += l.empty() ? "" : ",";
      append_json_string(l, random_value(rng));
    }
    add("\"#" + std::string(1, "eptdE"[i]) + "\":[" + l + "]");
  }
  f += "}";
  c.filter_json = f;
  return c;
}

TEST(NostrFilter, AgreesWithNostrToolsMatchFilterOnRandomCases) {
  const std::filesystem::path node_dir(PB_TEST_NODE_DIR);
  ASSERT_TRUE(std::filesystem::exists(node_dir / "node_modules" / "nostr-tools" / "package.json"))
      << "nostr-tools is missing: run scripts/setup.sh";
  test::TempDir dir;
  std::mt19937 rng(20261201);
  std::vector<Case> cases;
  std::ofstream in(dir.path() / "cases.jsonl");
  for (int i = 0; i < 3000; ++i) {
    cases.push_back(random_case(rng));
    std::string ev;
    append_event_json(ev, cases.back().event);
    in << "[" << cases.back().filter_json << "," << ev << "]\n";
  }
  in.close();
  const auto script = dir.path() / "match.cjs";  // CommonJS: NODE_PATH finds nostr-tools
  std::ofstream(script) << "const { matchFilter } = require('nostr-tools/filter');\n"
                           "const { readFileSync } = require('node:fs');\n"
                           "const out = [];\n"
                           "for (const line of readFileSync(process.argv[2], 'utf8').split('\\n')) {\n"
                           "  if (!line) continue;\n"
                           "  const [f, ev] = JSON.parse(line);\n"
                           "  out.push(matchFilter(f, ev) ? '1' : '0');\n"
                           "}\n"
                           "process.stdout.write(out.join(''));\n";
  FILE* pipe = popen(("NODE_PATH=" + (node_dir / "node_modules").string() + " node " + script.string() + " " + (dir.path() / "cases.jsonl").string() + " 2>&1").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string verdicts;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, pipe)) verdicts.append(buf, n);
  const int rc = pclose(pipe);
  ASSERT_EQ(rc, 0) << verdicts;
  ASSERT_EQ(verdicts.size(), cases.size()) << verdicts.substr(0, 500);
  std::size_t matched = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Filter f = must_parse(cases[i].filter_json);
    const bool ours = f.matches(cases[i].event);
    matched += ours;
    std::string ev;
    append_event_json(ev, cases[i].event);
    EXPECT_EQ(ours, verdicts[i] == '1') << cases[i].filter_json << " vs " << ev;
  }
  // Both outcomes are well represented, so agreement is not trivial.
  EXPECT_GT(matched, cases.size() / 10);
  EXPECT_LT(matched, cases.size() * 9 / 10);
}

}  // namespace
}  // namespace pb
