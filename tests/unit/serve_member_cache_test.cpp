// MemberCache::get_uncached: a one-off scan reads members without keeping them or touching the counters,
// and still gets a cached member when there is one.
#include <gtest/gtest.h>

#include "archive/committed_files.hpp"
#include "archive_test_support.hpp"
#include "serve/member_cache.hpp"
#include "test_support.hpp"

namespace pb::serve {
namespace {

TEST(ServeMemberCache, UncachedReadsKeepNothingAndSeeWhatIsCached) {
  test::TempDir dir;
  test::Signer signer(9);
  std::vector<Event> events;
  for (int i = 0; i < 40; ++i) {
    Event e;
    e.kind = 1;
    e.created_at = 1700000000 + i;
    e.content = std::string(300, static_cast<char>('a' + i % 26));
    signer.sign(e);
    events.push_back(e);
  }
  test::write_archive(dir.path(), events, /*member_bytes=*/2048);
  ArchiveIndex index = open_archive_index(dir.path());
  const auto row = index.get(events[0].id);
  ASSERT_TRUE(row);
  MemberCache cache(dir.path(), 1 << 20);

  const auto once = cache.get_uncached(row->file_name, row->member_offset);
  ASSERT_TRUE(once->find(events[0].id));
  EXPECT_EQ(once->find(events[0].id)->content, events[0].content);
  auto s = cache.stats();
  EXPECT_EQ(s.members, 0u);
  EXPECT_EQ(s.hits + s.misses, 0u);

  const auto kept = cache.get(row->file_name, row->member_offset);  // a miss, kept
  EXPECT_EQ(cache.get_uncached(row->file_name, row->member_offset), kept);  // the cached one, uncounted
  s = cache.stats();
  EXPECT_EQ(s.members, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, 0u);
}

}  // namespace
}  // namespace pb::serve
