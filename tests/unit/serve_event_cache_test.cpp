// EventCache: an event is kept while there is room, and once the cache is full only on its second offer;
// it is served (its record as stored) afterwards, and the cache stays within its byte budget, dropping the least recently
// used first.
#include <gtest/gtest.h>

#include <string>

#include "archive/proto_codec.hpp"
#include "serve/event_cache.hpp"

namespace pb::serve {
namespace {

Event event(unsigned char n, std::size_t content_bytes = 10) {
  Event ev;
  ev.id.fill(n);
  ev.id[20] = static_cast<unsigned char>(n * 7);  // fingerprint bytes differ too
  ev.pubkey.fill(0xab);
  ev.sig.fill(0xcd);
  ev.kind = 1;
  ev.created_at = 1700000000 + n;
  ev.content = std::string(content_bytes, 'x');
  ev.tags = {{"p", std::string(64, 'a')}};
  return ev;
}

std::string record(const Event& ev) {
  std::string out;
  append_proto_event(out, ev);
  return out;
}

// Whether the cache has the event (its record is fetched and dropped).
bool has(EventCache& cache, const Id32& id) {
  std::string rec;
  return cache.get(id, rec);
}

TEST(ServeEventCache, KeepsAnEventWhileThereIsRoomAndServesItsRecord) {
  EventCache cache(1 << 20);
  const Event a = event(1);
  std::string got = "left from before";
  EXPECT_FALSE(cache.get(a.id, got));
  cache.offer(a.id, record(a));
  ASSERT_TRUE(cache.get(a.id, got));
  EXPECT_EQ(got, record(a));  // replaced, not appended to
  const auto s = cache.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.admitted, 1u);
  EXPECT_EQ(s.events, 1u);
}

TEST(ServeEventCache, WhenFullKeepsOnlyWhatIsOfferedTwiceDroppingTheLeastRecentlyUsed) {
  const Event probe = event(0, 1000);
  const std::size_t one = record(probe).size() + 128;  // the entry's accounted size
  EventCache cache(3 * one + one / 2);                   // room for three
  for (unsigned char n = 1; n <= 3; ++n) {
    const Event e = event(n, 1000);
    cache.offer(e.id, record(e));
  }
  EXPECT_EQ(cache.stats().events, 3u);
  EXPECT_TRUE(has(cache, event(1, 1000).id));  // 1 is now the most recently used; 2 the least
  const Event d = event(4, 1000);
  cache.offer(d.id, record(d));  // full: a first offer is only remembered
  EXPECT_FALSE(has(cache, d.id));
  EXPECT_TRUE(has(cache, event(2, 1000).id));  // nothing was dropped for it; 3 is now the least recent
  cache.offer(d.id, record(d));               // asked for again: kept, and 3 makes room
  EXPECT_TRUE(has(cache, event(2, 1000).id));
  EXPECT_FALSE(has(cache, event(3, 1000).id));
  EXPECT_TRUE(has(cache, event(1, 1000).id));
  EXPECT_TRUE(has(cache, d.id));
  EXPECT_LE(cache.stats().bytes, 3 * one + one / 2);
  EXPECT_EQ(cache.stats().events, 3u);
}

TEST(ServeEventCache, DisabledWithoutABudget) {
  EventCache cache(0);
  const Event a = event(5);
  cache.offer(a.id, record(a));
  cache.offer(a.id, record(a));
  EXPECT_FALSE(has(cache, a.id));
  EXPECT_EQ(cache.stats().admitted, 0u);
}

}  // namespace
}  // namespace pb::serve
