// Relay discovery's decisions, with the clock passed in (no wall-clock dependence): scoring order,
// eligibility, parking after 10 failures in a row, filling slots best first, rotation, the per-IP cap
// and the new-connection rate limit.
#include <algorithm>
#include <cmath>

#include <boost/asio/ip/address.hpp>
#include <gtest/gtest.h>

#include "daemon/discovery_limits.hpp"
#include "daemon/discovery_plan.hpp"
#include "daemon/discovery_score.hpp"

namespace pb::daemon {
namespace {

using boost::asio::ip::make_address;
using namespace std::chrono_literals;

constexpr std::int64_t kNow = 1'750'000'000;

Candidate cand(std::string url, std::uint64_t mentions) {
  Candidate c;
  c.url = std::move(url);
  c.mentions = mentions;
  return c;
}

Candidates table(std::initializer_list<Candidate> list) {
  Candidates out;
  for (const auto& c : list) out.emplace(c.url, c);
  return out;
}

std::function<bool()> unlimited() {
  return [] { return true; };
}

TEST(DiscoveryScore, UntriedRelaysRankByMentions) {
  EXPECT_DOUBLE_EQ(score(cand("a", 0)), 0.0);
  EXPECT_DOUBLE_EQ(score(cand("a", 1)), 1.0);
  EXPECT_DOUBLE_EQ(score(cand("a", 7)), 3.0);
  EXPECT_TRUE(ranks_before(cand("b", 8), cand("a", 7)));
  EXPECT_TRUE(ranks_before(cand("a", 7), cand("b", 7)));  // tie: by URL, never by map order
}

TEST(DiscoveryScore, NovelEventsAndUptimeCountFailuresCost) {
  Candidate busy = cand("busy", 1);
  busy.connected_seconds = busy.active_seconds = 2 * 3600;
  busy.novel_events = 54000;  // in two connected hours: 27000 an hour
  Candidate quiet = cand("quiet", 1);
  quiet.connected_seconds = quiet.active_seconds = 2 * 3600;
  Candidate flaky = busy;
  flaky.url = "flaky";
  flaky.active_seconds = 4 * busy.active_seconds;  // connected a quarter of the time it was wanted
  Candidate failing = cand("failing", 1);
  failing.failures = 3;

  EXPECT_DOUBLE_EQ(score(quiet), 1.0);
  EXPECT_DOUBLE_EQ(score(busy), 1.0 + 4.0 * std::log2(1.0 + 27000.0));
  EXPECT_DOUBLE_EQ(score(flaky), 0.25 * score(busy));
  EXPECT_DOUBLE_EQ(score(failing), -2.0);
  std::vector<Candidate> v{failing, quiet, flaky, busy};
  std::sort(v.begin(), v.end(), ranks_before);
  EXPECT_EQ(v[0].url, "busy");
  EXPECT_EQ(v[1].url, "flaky");
  EXPECT_EQ(v[2].url, "quiet");
  EXPECT_EQ(v[3].url, "failing");
}

TEST(DiscoveryScore, ShortConnectionsAreNotOverCredited) {
  Candidate c = cand("a", 0);
  c.connected_seconds = c.active_seconds = 60;
  c.novel_events = 10;  // in one minute: counted as 10 an hour (the divisor is at least an hour), not 600
  EXPECT_DOUBLE_EQ(score(c), 4.0 * std::log2(11.0));
}

TEST(DiscoveryScore, StatesAndEligibility) {
  Candidate c = cand("a", 1);
  EXPECT_TRUE(eligible(c, kNow));
  EXPECT_EQ(candidate_state(c, kNow), "candidate");
  c.parked_until = kNow + 1;
  EXPECT_FALSE(eligible(c, kNow));
  EXPECT_EQ(candidate_state(c, kNow), "parked");
  EXPECT_TRUE(eligible(c, kNow + 1));  // the park ends
  c.last_error = "refused: private (resolved to 10.0.0.1)";
  EXPECT_EQ(candidate_state(c, kNow), "refused");
  Candidate r = cand("b", 1);
  r.refusal = "loopback";
  EXPECT_FALSE(eligible(r, kNow + 999999));
  EXPECT_EQ(candidate_state(r, kNow), "refused");
}

TEST(DiscoveryPlan, FillsFreeSlotsBestFirstSkippingIneligible) {
  Candidate parked = cand("wss://parked/", 50);
  parked.parked_until = kNow + 10;
  Candidate refused = cand("wss://refused/", 40);
  refused.refusal = "loopback";
  const auto t = table({cand("wss://a/", 1), cand("wss://b/", 9), cand("wss://c/", 3), cand("wss://op/", 100), parked,
                        refused});
  const Plan p = plan_round(t, {}, {"wss://op/"}, {2, 900}, kNow, unlimited());
  EXPECT_EQ(p.start, (std::vector<std::string>{"wss://b/", "wss://c/"}));
  EXPECT_TRUE(p.drop.empty());
  EXPECT_TRUE(p.park.empty());
}

TEST(DiscoveryPlan, RateLimitStopsStarting) {
  const auto t = table({cand("wss://a/", 1), cand("wss://b/", 2), cand("wss://c/", 3)});
  int tokens = 2;
  const Plan p = plan_round(t, {}, {}, {10, 900}, kNow, [&] { return tokens-- > 0; });
  EXPECT_EQ(p.start, (std::vector<std::string>{"wss://c/", "wss://b/"}));
}

TEST(DiscoveryPlan, ParksAfterTenFailuresInARow) {
  Candidate nine = cand("wss://nine/", 5);
  nine.failures = kParkAfterFailures - 1;
  Candidate ten = cand("wss://ten/", 5);
  ten.failures = kParkAfterFailures;
  const auto t = table({nine, ten});
  const Plan p = plan_round(t, {"wss://nine/", "wss://ten/"}, {}, {2, 900}, kNow, [] { return false; });
  EXPECT_EQ(p.park, (std::vector<std::string>{"wss://ten/"}));
  EXPECT_EQ(p.drop, (std::vector<std::string>{"wss://ten/"}));
  EXPECT_TRUE(p.start.empty());
}

TEST(DiscoveryPlan, DropsWhatBecameIneligibleOrOperatorOrBeyondTheSlots) {
  Candidate refused = cand("wss://refused/", 5);
  refused.parked_until = kNow + 3600;  // refused at connect time
  const auto t = table({refused, cand("wss://op/", 5), cand("wss://good/", 9), cand("wss://worse/", 2)});
  const Plan p = plan_round(t, {"wss://refused/", "wss://op/", "wss://good/", "wss://worse/", "wss://gone/"},
                            {"wss://op/"}, {1, 900}, kNow, unlimited());
  std::vector<std::string> drop = p.drop;
  std::sort(drop.begin(), drop.end());
  EXPECT_EQ(drop, (std::vector<std::string>{"wss://gone/", "wss://op/", "wss://refused/", "wss://worse/"}));
  EXPECT_TRUE(p.start.empty());
}

TEST(DiscoveryPlan, RotatesTheWorstPastItsGraceForABetterOne) {
  Candidate old_bad = cand("wss://old-bad/", 1);
  old_bad.active_seconds = 1000;
  old_bad.connected_seconds = 100;  // uptime 0.1: score 0.1
  Candidate new_bad = cand("wss://new-bad/", 0);
  new_bad.active_seconds = 10;  // in its grace period: not rotated even though it is worse
  Candidate good = cand("wss://good/", 1);
  good.active_seconds = good.connected_seconds = 1000;
  good.novel_events = 500;
  const auto t = table({old_bad, new_bad, good, cand("wss://waiting/", 3), cand("wss://waiting2/", 2)});
  const std::set<std::string> active{"wss://old-bad/", "wss://new-bad/", "wss://good/"};
  const Plan p = plan_round(t, active, {}, {3, 900}, kNow, unlimited());
  EXPECT_TRUE(p.rotated);
  EXPECT_EQ(p.drop, (std::vector<std::string>{"wss://old-bad/"}));
  EXPECT_EQ(p.start, (std::vector<std::string>{"wss://waiting/"}));

  // Nobody waiting ranks above the worst relay past its grace: no churn.
  const auto t2 = table({old_bad, new_bad, good, cand("wss://waiting/", 0)});
  Candidate better_old = old_bad;
  better_old.connected_seconds = 1000;  // uptime 1: score 1 > waiting's 0
  auto t3 = t2;
  t3["wss://old-bad/"] = better_old;
  const Plan q = plan_round(t3, active, {}, {3, 900}, kNow, unlimited());
  EXPECT_FALSE(q.rotated);
  EXPECT_TRUE(q.drop.empty() && q.start.empty());
  // The rate limit also holds a rotation back.
  const Plan r = plan_round(t, active, {}, {3, 900}, kNow, [] { return false; });
  EXPECT_FALSE(r.rotated);
  EXPECT_TRUE(r.drop.empty() && r.start.empty());
}

TEST(DiscoveryLimits, AtMostTwoConnectionsPerIp) {
  IpSlots slots;
  const std::vector<boost::asio::ip::address> one{make_address("93.184.216.34")};
  const std::vector<boost::asio::ip::address> two{make_address("93.184.216.34"), make_address("2606:4700::1")};
  EXPECT_EQ(slots.reserve("wss://a/", one), one[0]);
  EXPECT_EQ(slots.reserve("wss://b/", one), one[0]);
  EXPECT_EQ(slots.reserve("wss://c/", one), std::nullopt);  // third name for the same host
  EXPECT_EQ(slots.reserve("wss://c/", two), two[1]);        // another of its addresses is free
  EXPECT_EQ(slots.used(one[0]), 2u);
  EXPECT_EQ(slots.reserve("wss://a/", one), one[0]);  // a reconnecting relay keeps its own slot
  EXPECT_EQ(slots.used(one[0]), 2u);
  slots.release("wss://b/");
  EXPECT_EQ(slots.used(one[0]), 1u);
  EXPECT_EQ(slots.reserve("wss://d/", one), one[0]);
  slots.release("wss://unknown/");  // harmless
  EXPECT_EQ(slots.used(one[0]), 2u);
}

TEST(DiscoveryLimits, NewConnectionsPerMinute) {
  ConnectRateLimit limit(10);
  const ConnectRateLimit::Clock::time_point t0{};  // an injected clock: no wall time involved
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limit.try_take(t0 + i * 1s)) << i;
  EXPECT_FALSE(limit.try_take(t0 + 10s));
  EXPECT_FALSE(limit.try_take(t0 + 59s));
  EXPECT_TRUE(limit.try_take(t0 + 60s));  // the first grant left the window
  EXPECT_FALSE(limit.try_take(t0 + 60s));
  EXPECT_TRUE(limit.try_take(t0 + 61s));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limit.try_take(t0 + 200s + i * 1ms)) << i;  // a quiet minute refills
  EXPECT_FALSE(limit.try_take(t0 + 200s + 10ms));
}

}  // namespace
}  // namespace pb::daemon
