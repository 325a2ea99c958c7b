// History paging's pure parts: the pager's decisions (history_pager.hpp) and the writer's cursor hold
// (cursor_hold.hpp), with exact outcomes.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/cursor_hold.hpp"
#include "daemon/history_pager.hpp"

namespace pb::daemon {
namespace {

// Feeds one page (the created_at of each event) and returns the decision.
PageStep page(HistoryPager& p, const std::vector<std::int64_t>& created) {
  for (auto at : created) p.event(at);
  return p.end_page();
}

std::vector<std::int64_t> span(std::int64_t newest, std::int64_t oldest) {
  std::vector<std::int64_t> out;
  for (auto t = newest; t >= oldest; --t) out.push_back(t);
  return out;
}

TEST(HistoryPager, ShortFirstPageIsComplete) {
  HistoryPager p(100, 5);
  EXPECT_EQ(page(p, {120, 110, 101}).verdict, PageVerdict::complete);
  HistoryPager empty(100, 5);
  EXPECT_EQ(empty.end_page().verdict, PageVerdict::complete);
}

TEST(HistoryPager, FullPagesWalkBackInclusiveUntilAShortOne) {
  HistoryPager p(100, 3);
  EXPECT_FALSE(p.until());
  PageStep s = page(p, {200, 190, 180});
  EXPECT_EQ(s.verdict, PageVerdict::more);
  EXPECT_EQ(s.until, 180);  // inclusive: events sharing second 180 are asked for again
  EXPECT_EQ(p.until(), 180);
  s = page(p, {180, 170, 160});
  EXPECT_EQ(s.verdict, PageVerdict::more);
  EXPECT_EQ(s.until, 160);
  s = page(p, {160, 150});
  EXPECT_EQ(s.verdict, PageVerdict::complete);
}

TEST(HistoryPager, OrderWithinAPageDoesNotMatter) {
  HistoryPager p(0, 3);
  const PageStep s = page(p, {50, 70, 60});
  EXPECT_EQ(s.verdict, PageVerdict::more);
  EXPECT_EQ(s.until, 50);
}

TEST(HistoryPager, APageAllAtItsUntilSecondStepsOneSecondBack) {
  HistoryPager p(0, 4);
  ASSERT_EQ(page(p, {300, 250, 250, 250}).until, 250);
  const PageStep s = page(p, {250, 250, 250, 250});  // second 250 alone fills a page
  EXPECT_EQ(s.verdict, PageVerdict::skip_second);
  EXPECT_EQ(s.until, 249);
  EXPECT_EQ(page(p, {249, 100}).verdict, PageVerdict::complete);
}

TEST(HistoryPager, ARelayRepeatingTheSamePageStopsAfterTwoMorePages) {
  HistoryPager p(0, 3);
  const std::vector<std::int64_t> same{90, 80, 70};
  EXPECT_EQ(page(p, same).until, 70);
  const PageStep s = page(p, same);  // until ignored: all of it at or after 70, the oldest at 70
  EXPECT_EQ(s.verdict, PageVerdict::skip_second);
  EXPECT_EQ(s.until, 69);
  EXPECT_EQ(page(p, same).verdict, PageVerdict::no_progress);  // nothing at or before 69: stop
}

TEST(HistoryPager, NeverBelowSince) {
  HistoryPager p(150, 2);
  EXPECT_EQ(page(p, {200, 150}).until, 150);
  // A full page at since itself: the step to 149 would leave the range.
  EXPECT_EQ(page(p, {150, 150}).verdict, PageVerdict::complete);
  HistoryPager q(150, 2);
  EXPECT_EQ(page(q, {160, 140}).verdict, PageVerdict::complete);  // the relay ignored since: range covered
}

TEST(HistoryPager, AFullPageWithoutReadableTimesStops) {
  HistoryPager p(0, 2);
  p.event(std::nullopt);
  p.event(std::nullopt);
  EXPECT_EQ(p.end_page().verdict, PageVerdict::no_progress);
}

TEST(HistoryPager, UntilStrictlyDecreasesSoPagingEnds) {
  HistoryPager p(1000, 10);
  std::int64_t newest = 5000;
  int pages = 0;
  for (PageStep s{PageVerdict::more, 0}; s.verdict == PageVerdict::more || s.verdict == PageVerdict::skip_second; ++pages) {
    const std::int64_t top = p.until().value_or(newest);
    s = page(p, span(top, std::max<std::int64_t>(1000, top - 9)));
    ASSERT_LT(pages, 1000);
  }
  EXPECT_EQ(pages, 445);  // 10 seconds, then 9 new ones a page (443 pages), then the last 5
  EXPECT_EQ(p.until(), 1004);
}

TEST(CursorHold, UntaggedEventsMoveTheCursorAtOnce) {
  CursorHold h;
  h.event(0, 100);
  h.event(0, 90);
  EXPECT_TRUE(h.ready());
  EXPECT_EQ(h.take(), 100);
  EXPECT_EQ(h.take(), std::nullopt);
  EXPECT_TRUE(h.idle());
}

TEST(CursorHold, ARunIsHeldUntilItsEndAndEveryEventArrived) {
  CursorHold h;
  h.event(1, 500);
  h.event(1, std::nullopt);  // dropped by a worker
  EXPECT_FALSE(h.ready());
  h.end(1, 3);  // the mark overtook one event (parallel workers)
  EXPECT_FALSE(h.ready());
  EXPECT_FALSE(h.idle());
  h.event(1, 300);
  EXPECT_EQ(h.take(), 500);
  EXPECT_TRUE(h.idle());
  h.event(1, 700);  // a late event of an ended run moves the cursor at once
  EXPECT_EQ(h.take(), 700);
}

TEST(CursorHold, AnEmptyRunReleasesNothing) {
  CursorHold h;
  h.end(4, 0);
  EXPECT_FALSE(h.ready());
  EXPECT_TRUE(h.idle());
}

TEST(CursorHold, AnAbandonedRunIsReleasedByTheNextRunsEndNotBefore) {
  CursorHold h;
  h.event(2, 800);  // connection lost mid-paging: run 2 never ends
  h.event(5, 600);
  EXPECT_FALSE(h.ready());
  h.end(5, 1);
  EXPECT_EQ(h.take(), 800);
  EXPECT_TRUE(h.idle());
}

TEST(CursorHold, ALaterRunStaysHeldWhenAnEarlierOneEnds) {
  CursorHold h;
  h.event(3, 400);
  h.event(7, 900);  // the next connection's run (its events may reach the writer before run 3's end)
  h.end(3, 1);
  EXPECT_EQ(h.take(), 400);
  EXPECT_FALSE(h.idle());
  h.event(0, 950);  // untagged, e.g. a live event of an ended run: not held
  EXPECT_EQ(h.take(), 950);
  h.end(7, 1);
  EXPECT_EQ(h.take(), 900);
  EXPECT_TRUE(h.idle());
}

}  // namespace
}  // namespace pb::daemon
