// Relay discovery, the parts without I/O or clocks: relay hints of an event (kind-10002 `r` tags, e/p/a
// hints), URL judging and normalisation (SSRF rules by name and by address), the hand-over queue and
// the candidate table (discovery.db) round trip.
#include <algorithm>

#include <boost/asio/ip/address.hpp>
#include <gtest/gtest.h>

#include "daemon/config.hpp"
#include "daemon/discovery_feed.hpp"
#include "daemon/discovery_hints.hpp"
#include "daemon/discovery_policy.hpp"
#include "daemon/discovery_store.hpp"
#include "test_support.hpp"

namespace pb::daemon {
namespace {

using boost::asio::ip::make_address;

Event event(std::int32_t kind, std::vector<Tag> tags) {
  Event ev;
  ev.kind = kind;
  ev.tags = std::move(tags);
  return ev;
}

TEST(DiscoveryHints, RelayListRTagsAreNip65Hints) {
  const auto hints = relay_hints(event(10002, {{"r", "wss://a.example/"}, {"r", "wss://b.example", "read"},
                                               {"r", "wss://c.example", "write"}, {"r"}, {"r", ""}}));
  const std::vector<RelayHint> want{{"wss://a.example/", HintSource::nip65},
                                    {"wss://b.example", HintSource::nip65},
                                    {"wss://c.example", HintSource::nip65}};
  EXPECT_EQ(hints, want);
}

TEST(DiscoveryHints, RTagsOfOtherKindsAreNotRelays) {
  EXPECT_TRUE(relay_hints(event(1, {{"r", "https://example.com/article"}, {"r", "wss://x.example"}})).empty());
}

TEST(DiscoveryHints, EPAHintsAreTheThirdElement) {
  const auto hints = relay_hints(event(1, {{"e", "00ff", "wss://e.example", "reply"},
                                           {"p", "11ee", "wss://p.example"},
                                           {"a", "30023:11ee:d", "wss://a.example"},
                                           {"e", "22dd"},              // no hint
                                           {"p", "33cc", ""},          // empty hint
                                           {"t", "x", "wss://t.example"},  // not a hint-carrying tag
                                           {"ee", "x", "wss://long-name.example"}}));
  const std::vector<RelayHint> want{{"wss://e.example", HintSource::hint},
                                    {"wss://p.example", HintSource::hint},
                                    {"wss://a.example", HintSource::hint}};
  EXPECT_EQ(hints, want);
}

TEST(DiscoveryHints, RepeatsCountOnceAndNip65Wins) {
  const auto hints = relay_hints(event(10002, {{"p", "aa", "wss://x.example"}, {"r", "wss://x.example"},
                                               {"e", "bb", "wss://x.example"}}));
  ASSERT_EQ(hints.size(), 1u);
  EXPECT_EQ(hints[0].source, HintSource::nip65);
}

TEST(DiscoveryHints, BoundedPerEventAndLongUrlsCut) {
  std::vector<Tag> tags;
  for (int i = 0; i < 500; ++i) tags.push_back({"p", "aa", "wss://r" + std::to_string(i) + ".example"});
  tags.insert(tags.begin(), Tag{"p", "aa", "wss://" + std::string(5000, 'x') + ".example"});
  const auto hints = relay_hints(event(1, tags));
  ASSERT_EQ(hints.size(), kMaxHintsPerEvent);
  EXPECT_EQ(hints[0].url.size(), kMaxHintBytes + 1);  // kept just long enough to be refused as too long
  EXPECT_EQ(judge_url(hints[0].url, true).reason, "too_long");
}

TEST(DiscoveryPolicy, NormalisesSoSpellingsOfOneRelayMeetInOneRow) {
  for (const char* spelling : {"wss://Relay.Example.COM", "WSS://relay.example.com/", "wss://relay.example.com:443",
                               "wss://RELAY.example.com:443/"}) {
    const auto v = judge_url(spelling, false);
    EXPECT_EQ(v.url, "wss://relay.example.com/") << spelling;
    EXPECT_EQ(v.reason, "") << spelling;
  }
  EXPECT_EQ(judge_url("ws://relay.example.com:80", false).url, "ws://relay.example.com/");
  EXPECT_EQ(judge_url("wss://relay.example.com:8443/nostr", false).url, "wss://relay.example.com:8443/nostr");
}

TEST(DiscoveryPolicy, JunkIsRefusedAndNeverNormalised) {
  struct Case {
    std::string url;
    std::string_view reason;
  };
  const std::vector<Case> cases{{"http://relay.example.com", "scheme"},
                                {"https://relay.example.com", "scheme"},
                                {"relay.example.com", "scheme"},
                                {"ws://[bad", "malformed"},
                                {"wss://", "malformed"},
                                {"wss://us er@relay.example.com", "malformed"},
                                {"wss://relay.example.com:99999", "malformed"},
                                {"wss://relay.example.com/#frag", "malformed"},
                                {"wss://" + std::string(300, 'a') + ".com", "too_long"}};
  for (const auto& c : cases) {
    for (bool allow_private : {false, true}) {
      const auto v = judge_url(c.url, allow_private);
      EXPECT_EQ(v.reason, c.reason) << c.url;
      EXPECT_EQ(v.url, "") << c.url;
    }
  }
}

TEST(DiscoveryPolicy, NamesAndAddressLiterals) {
  struct Case {
    const char* url;
    std::string_view strict, lenient;  // reason without / with allow_private
  };
  const std::vector<Case> cases{
      {"wss://abc.onion", "onion", "onion"},             // no Tor: refused either way
      {"wss://relay.local", "local_name", ""},
      {"ws://localhost:7777", "local_name", ""},
      {"ws://relay:7777", "local_name", ""},              // single label
      {"wss://nas.home.arpa", "local_name", ""},
      {"ws://127.0.0.1:7777", "loopback", ""},
      {"ws://[::1]:7777", "loopback", ""},
      {"ws://10.1.2.3", "private", ""},
      {"ws://192.168.1.10", "private", ""},
      {"ws://172.20.0.1", "private", ""},
      {"ws://169.254.1.1", "link_local", ""},
      {"ws://[fe80::1]", "link_local", ""},
      {"ws://100.64.0.1", "cgnat", ""},
      {"ws://[fd00::1]", "unique_local", ""},
      {"ws://224.0.0.1", "multicast", ""},
      {"ws://0.0.0.0", "unspecified", ""},
      {"ws://[::ffff:127.0.0.1]", "loopback", ""},       // IPv4-mapped: judged as IPv4
      {"ws://8.8.8.8", "", ""},
      {"wss://relay.example.com", "", ""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(judge_url(c.url, false).reason, c.strict) << c.url;
    EXPECT_EQ(judge_url(c.url, true).reason, c.lenient) << c.url;
  }
}

TEST(DiscoveryPolicy, ResolvedAddressesKeepOnlyPublicOnes) {
  const std::vector<boost::asio::ip::address> mixed{make_address("10.0.0.5"), make_address("93.184.216.34"),
                                                    make_address("127.0.0.1"), make_address("2606:4700::1")};
  auto f = filter_addresses(mixed, false);
  EXPECT_EQ(f.reason, "");
  EXPECT_EQ(f.allowed, (std::vector<boost::asio::ip::address>{make_address("93.184.216.34"), make_address("2606:4700::1")}));

  const std::vector<boost::asio::ip::address> rebinding{make_address("127.0.0.1"), make_address("10.0.0.1")};
  f = filter_addresses(rebinding, false);
  EXPECT_TRUE(f.allowed.empty());
  EXPECT_EQ(f.reason, "loopback");  // the first refused address explains
  f = filter_addresses(rebinding, true);
  EXPECT_EQ(f.allowed, rebinding);
  EXPECT_EQ(filter_addresses({}, false).reason, "no_address");
}

TEST(DiscoveryPolicy, LoggableUrlIsPrintableAndShort) {
  EXPECT_EQ(loggable_url("ws://a\nb\x01"), "ws://a?b?");
  EXPECT_EQ(loggable_url(std::string(500, 'x')).size(), 123u);
}

TEST(DiscoveryFeed, SumsMentionsPerRawUrlAndBoundsDistinctOnes) {
  DiscoveryFeed feed(2);
  const std::vector<RelayHint> one{{"wss://a.example", HintSource::nip65}, {"wss://b.example", HintSource::hint}};
  feed.add(one);
  feed.add(std::vector<RelayHint>{{"wss://a.example", HintSource::hint}, {"wss://c.example", HintSource::hint}});
  auto got = feed.take();
  std::sort(got.begin(), got.end(), [](const PendingHint& x, const PendingHint& y) { return x.url < y.url; });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].url, "wss://a.example");
  EXPECT_EQ(got[0].mentions, 2u);
  EXPECT_EQ(got[0].sources, 3u);  // nip65 | hint
  EXPECT_EQ(got[1].mentions, 1u);
  EXPECT_EQ(feed.dropped(), 1u);  // c: two distinct URLs were already waiting
  EXPECT_TRUE(feed.take().empty());
}

TEST(CandidateStore, RoundTripAndUpsert) {
  test::TempDir dir;
  const auto path = dir.path() / "discovery.db";
  Candidate a;
  a.url = "wss://a.example/";
  a.mentions = 3;
  a.first_seen = 1700000000;
  a.last_seen = 1700000100;
  a.sources = 3;
  a.failures = 4;
  a.parked_until = 1700090000;
  a.novel_events = 42;
  a.connected_seconds = 600;
  a.active_seconds = 700;
  a.last_error = "connect timeout";
  {
    CandidateStore store(path);
    store.save({&a});
    a.mentions = 5;  // saved again: replaces the row
    store.save({&a});
  }
  CandidateStore store(path);
  const auto rows = store.load();
  ASSERT_EQ(rows.size(), 1u);
  const Candidate& b = rows[0];
  EXPECT_EQ(b.url, a.url);
  EXPECT_EQ(b.mentions, 5u);
  EXPECT_EQ(b.first_seen, a.first_seen);
  EXPECT_EQ(b.last_seen, a.last_seen);
  EXPECT_EQ(b.sources, 3u);
  EXPECT_EQ(b.failures, 4u);
  EXPECT_EQ(b.parked_until, a.parked_until);
  EXPECT_EQ(b.novel_events, 42u);
  EXPECT_EQ(b.connected_seconds, 600);
  EXPECT_EQ(b.active_seconds, 700);
  EXPECT_EQ(b.last_error, "connect timeout");
  EXPECT_EQ(sources_text(3), "nip65,hint");
  EXPECT_EQ(sources_from_text("hint"), static_cast<std::uint8_t>(HintSource::hint));
}

TEST(CandidateStore, UnusableFileIsAClearError) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "discovery.db");  // a folder where the file should be
  try {
    CandidateStore store(dir.path() / "discovery.db");
    FAIL() << "opened a folder";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("discovery.db"), std::string::npos) << e.what();
  }
}

TEST(DiscoveryConfig, IntervalAndRateKeys) {
  const EnvLookup no_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  auto r = load_config({}, no_env);
  EXPECT_DOUBLE_EQ(r.config.discovery_interval, 300.0);
  EXPECT_EQ(r.config.discovery_connects_per_minute, 10u);
  r = load_config({"--discovery-interval", "0.25", "--discovery-connects-per-minute", "3"}, no_env);
  ASSERT_EQ(r.error, "");
  EXPECT_DOUBLE_EQ(r.config.discovery_interval, 0.25);
  EXPECT_EQ(r.config.discovery_connects_per_minute, 3u);
  const std::string printed = format_config(r.config);
  EXPECT_NE(printed.find("discovery_interval = 0.25\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("discovery_connects_per_minute = 3\n"), std::string::npos) << printed;
  r = load_config({"--discovery-interval", "0"}, no_env);
  EXPECT_NE(r.error.find("discovery_interval"), std::string::npos) << r.error;
  EXPECT_EQ(r.exit_code, 2);
  // Given twice (the test helper passes --no-discovery first), the last one wins.
  EXPECT_TRUE(load_config({"--no-discovery", "--discovery"}, no_env).config.discovery);
  EXPECT_FALSE(load_config({"--discovery", "--no-discovery"}, no_env).config.discovery);
}

TEST(DiscoveryConfig, ExampleFileLoads) {
  const auto example = std::filesystem::path(PB_TEST_DATA_DIR) / ".." / ".." / "examples" / "daemon.toml";
  const EnvLookup no_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  const auto r = load_config({"--config", example.string()}, no_env);
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.config.discovery);
  EXPECT_DOUBLE_EQ(r.config.discovery_interval, 300.0);
  EXPECT_EQ(r.config.discovery_connects_per_minute, 10u);
}

}  // namespace
}  // namespace pb::daemon
