// InflatedCopy: whatever the copy gives for a member is exactly what inflating the day file at that offset
// gives now — after appends, in-place damage, a file swapped in by rename, a damaged copy — and the
// refresh copies what is missing or stale and removes what is left over.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <set>

#include <gtest/gtest.h>

#include "archive/committed_files.hpp"
#include "archive/member_read.hpp"
#include "archive_test_support.hpp"
#include "serve/inflated_copy.hpp"
#include "serve/member_cache.hpp"
#include "test_support.hpp"

namespace pb::serve {
namespace {

namespace fs = std::filesystem;

ino_t inode_of(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

std::vector<Event> day_events(test::Signer& signer, int n, int first, char fill) {
  std::vector<Event> events;
  for (int i = first; i < first + n; ++i) {
    Event e;
    e.kind = 1;
    e.created_at = 1700000000 + i;  // one day
    e.content = std::string(200 + i % 50, fill) + std::to_string(i);
    signer.sign(e);
    events.push_back(e);
  }
  return events;
}

// The member offsets of the archive's (only) day file, from its index.
std::pair<std::string, std::set<std::uint64_t>> members_of(const fs::path& dir) {
  ArchiveIndex index = open_archive_index(dir);
  std::string file;
  std::set<std::uint64_t> offsets;
  for (const auto& row : index.rows_after(0, 1u << 20)) {
    file = row.file_name;
    offsets.insert(row.member_offset);
  }
  return {file, offsets};
}

// The invariant: a read gives nothing, or the bytes inflating the day file at that offset gives.
void expect_reads_match_the_day_file(InflatedCopy& copy, const fs::path& dir, const std::string& file,
                                     const std::set<std::uint64_t>& offsets, std::size_t* served = nullptr) {
  std::size_t n = 0;
  for (const auto offset : offsets) {
    const auto got = copy.read(file, offset);
    if (!got) continue;
    ++n;
    const auto want = inflate_member_at(dir / file, offset);
    ASSERT_TRUE(want) << "offset " << offset;
    EXPECT_EQ(got->bytes, *want) << "offset " << offset;
  }
  if (served) *served = n;
}

TEST(ServeInflatedCopy, ServesEveryMemberAsInflatingItWouldAndPersists) {
  test::TempDir dir, copy_dir;
  test::Signer signer(3);
  test::write_archive(dir.path(), day_events(signer, 60, 0, 'a'), /*member_bytes=*/2048);
  const auto [file, offsets] = members_of(dir.path());
  ASSERT_GT(offsets.size(), 4u);
  {
    InflatedCopy copy(dir.path(), copy_dir.path());
    EXPECT_FALSE(copy.read(file, *offsets.begin()));  // nothing copied yet
    EXPECT_EQ(copy.refresh(), 1u);
    EXPECT_EQ(copy.refresh(), 0u);  // unchanged
    std::size_t served = 0;
    expect_reads_match_the_day_file(copy, dir.path(), file, offsets, &served);
    EXPECT_EQ(served, offsets.size());
    EXPECT_FALSE(copy.read(file, *offsets.begin() + 1));  // not a member's start
    const auto s = copy.stats();
    EXPECT_EQ(s.reads, offsets.size());
    EXPECT_EQ(s.fallbacks, 2u);
    EXPECT_EQ(s.files, 1u);
    EXPECT_GT(s.bytes, 60u * 200);
  }
  InflatedCopy again(dir.path(), copy_dir.path());  // a later run finds the copy on disk
  std::size_t served = 0;
  expect_reads_match_the_day_file(again, dir.path(), file, offsets, &served);
  EXPECT_EQ(served, offsets.size());
  EXPECT_EQ(again.refresh(), 0u);
}

TEST(ServeInflatedCopy, AppendedMembersAreInflatedUntilTheNextRefresh) {
  test::TempDir dir, copy_dir;
  test::Signer signer(4);
  test::write_archive(dir.path(), day_events(signer, 30, 0, 'b'), 2048);
  std::optional<InflatedCopy> copy;
  copy.emplace(dir.path(), copy_dir.path());
  ASSERT_EQ(copy->refresh(), 1u);
  const auto before = members_of(dir.path()).second;
  test::write_archive(dir.path(), day_events(signer, 30, 100, 'c'), 2048);  // the same day, appended
  const auto [file, after] = members_of(dir.path());
  ASSERT_GT(after.size(), before.size());
  std::size_t served = 0;
  expect_reads_match_the_day_file(*copy, dir.path(), file, after, &served);
  EXPECT_EQ(served, before.size());
  const auto raw = copy_dir.path() / (file + ".raw");
  const auto inode = inode_of(raw);
  const auto copied_before = copy->stats().members_copied;
  EXPECT_EQ(copy->refresh(), 1u);
  // Only the appended members were inflated, into the same copy file (extended in place).
  EXPECT_EQ(copy->stats().members_copied - copied_before, after.size() - before.size());
  EXPECT_EQ(inode_of(raw), inode);
  expect_reads_match_the_day_file(*copy, dir.path(), file, after, &served);
  EXPECT_EQ(served, after.size());
  EXPECT_EQ(copy->refresh(), 0u);
  // A later run loads the extended copy and serves every member from it.
  copy.reset();
  InflatedCopy again(dir.path(), copy_dir.path());
  expect_reads_match_the_day_file(again, dir.path(), file, after, &served);
  EXPECT_EQ(served, after.size());
  EXPECT_EQ(again.refresh(), 0u);
}

TEST(ServeInflatedCopy, ADayFileRewrittenInPlaceAndGrownIsCopiedWhole) {
  test::TempDir dir, other, copy_dir;
  test::Signer signer(9);
  test::write_archive(dir.path(), day_events(signer, 30, 0, 'm'), 2048);
  test::write_archive(other.path(), day_events(signer, 90, 0, 'n'), 1500);  // the same day, larger, other members
  const auto file = members_of(dir.path()).first;
  InflatedCopy copy(dir.path(), copy_dir.path());
  ASSERT_EQ(copy.refresh(), 1u);
  const auto inode = inode_of(dir.path() / file);
  {  // rewritten through the same inode (as a crash recovery truncating and writing again might)
    std::ifstream in(other.path() / file, std::ios::binary);
    std::ofstream out(dir.path() / file, std::ios::binary | std::ios::trunc);
    out << in.rdbuf();
  }
  ASSERT_EQ(inode_of(dir.path() / file), inode);
  const auto others = members_of(other.path()).second;
  const auto copied_before = copy.stats().members_copied;
  EXPECT_EQ(copy.refresh(), 1u);
  EXPECT_EQ(copy.stats().members_copied - copied_before, others.size());  // all of them: not an extension
  std::size_t served = 0;
  expect_reads_match_the_day_file(copy, dir.path(), file, others, &served);
  EXPECT_EQ(served, others.size());
}

TEST(ServeInflatedCopy, AChangedDayFileOrADamagedCopyIsNeverServed) {
  test::TempDir dir, other, copy_dir;
  test::Signer signer(5);
  test::write_archive(dir.path(), day_events(signer, 60, 0, 'd'), 2048);
  test::write_archive(other.path(), day_events(signer, 60, 0, 'e'), 1500);  // the same day, other members
  const auto [file, offsets] = members_of(dir.path());
  InflatedCopy copy(dir.path(), copy_dir.path());
  ASSERT_EQ(copy.refresh(), 1u);

  // A byte of the copy's records damaged: that member is inflated instead.
  const auto copy_file = copy_dir.path() / (file + ".raw");
  {
    const int fd = ::open(copy_file.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "#", 1, 48 + 10), 1);  // inside the first member's records
    ::close(fd);
  }
  EXPECT_FALSE(copy.read(file, *offsets.begin()));
  std::size_t served = 0;
  expect_reads_match_the_day_file(copy, dir.path(), file, offsets, &served);
  EXPECT_EQ(served, offsets.size() - 1);

  // Another file swapped in by rename (what compaction and repair do): nothing of the old copy is served.
  fs::copy_file(other.path() / file, dir.path() / "swap.tmp");
  fs::rename(dir.path() / "swap.tmp", dir.path() / file);
  expect_reads_match_the_day_file(copy, dir.path(), file, offsets, &served);
  EXPECT_EQ(served, 0u);
  EXPECT_EQ(copy.refresh(), 1u);  // another inode: copied again
  const auto others = members_of(other.path()).second;
  expect_reads_match_the_day_file(copy, dir.path(), file, others, &served);
  EXPECT_EQ(served, others.size());
}

TEST(ServeInflatedCopy, RefreshReplacesJunkAndRemovesLeftovers) {
  test::TempDir dir, copy_dir;
  test::Signer signer(6);
  test::write_archive(dir.path(), day_events(signer, 20, 0, 'f'), 2048);
  const auto [file, offsets] = members_of(dir.path());
  std::ofstream(copy_dir.path() / (file + ".raw")) << "not a copy";
  std::ofstream(copy_dir.path() / "2001_01_01.pb.gz.raw") << "a copy of a day file that is gone";
  std::ofstream(copy_dir.path() / (file + ".raw.tmp")) << "what a stopped copy left";
  std::ofstream(copy_dir.path() / "notes.txt") << "not ours";
  {
    InflatedCopy copy(dir.path(), copy_dir.path());
    EXPECT_FALSE(copy.read(file, *offsets.begin()));
    EXPECT_EQ(copy.refresh(), 1u);
    EXPECT_TRUE(copy.read(file, *offsets.begin()));
    EXPECT_FALSE(fs::exists(copy_dir.path() / "2001_01_01.pb.gz.raw"));
    EXPECT_FALSE(fs::exists(copy_dir.path() / (file + ".raw.tmp")));
    EXPECT_TRUE(fs::exists(copy_dir.path() / "notes.txt"));
  }
  std::stop_source stopped;
  stopped.request_stop();
  fs::remove(copy_dir.path() / (file + ".raw"));
  InflatedCopy later(dir.path(), copy_dir.path());
  EXPECT_EQ(later.refresh(stopped.get_token()), 0u);  // a stop asked for: nothing copied, nothing left
  EXPECT_FALSE(fs::exists(copy_dir.path() / (file + ".raw.tmp")));
}

TEST(ServeInflatedCopy, ACopyWhoseTableIsDamagedIsNotUsed) {
  test::TempDir dir, copy_dir;
  test::Signer signer(8);
  test::write_archive(dir.path(), day_events(signer, 20, 0, 'k'), 2048);
  const auto [file, offsets] = members_of(dir.path());
  { InflatedCopy(dir.path(), copy_dir.path()).refresh(); }
  // The first member's place in the copy (table entry: offset, raw offset, raw size | size) made to wrap
  // around: raw offset + raw size overflows to a small number, inside the file.
  const auto path = copy_dir.path() / (file + ".raw");
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  std::uint64_t header[6];
  ASSERT_EQ(::pread(fd, header, sizeof header, 0), static_cast<ssize_t>(sizeof header));
  std::uint64_t entry[3];
  ASSERT_EQ(::pread(fd, entry, sizeof entry, static_cast<off_t>(header[5])), static_cast<ssize_t>(sizeof entry));
  const std::uint64_t raw_size = entry[2] & 0xffffffffu;
  entry[1] = ~std::uint64_t(0) - raw_size + 60;  // + raw_size wraps to 59
  ASSERT_EQ(::pwrite(fd, entry, sizeof entry, static_cast<off_t>(header[5])), static_cast<ssize_t>(sizeof entry));
  ::close(fd);
  InflatedCopy copy(dir.path(), copy_dir.path());
  EXPECT_FALSE(copy.read(file, *offsets.begin()));  // the whole table is refused, not read out of bounds
  EXPECT_FALSE(copy.read(file, *offsets.rbegin()));
  EXPECT_EQ(copy.refresh(), 1u);  // and copied again
  EXPECT_TRUE(copy.read(file, *offsets.begin()));
}

TEST(ServeInflatedCopy, TheMemberCacheDecodesEventsFromTheCopy) {
  test::TempDir dir, copy_dir;
  test::Signer signer(7);
  const auto events = day_events(signer, 40, 0, 'g');
  test::write_archive(dir.path(), events, 2048);
  InflatedCopy copy(dir.path(), copy_dir.path());
  ASSERT_EQ(copy.refresh(), 1u);
  MemberCache cache(dir.path(), 1 << 20);
  cache.use_inflated_copy(&copy);
  ArchiveIndex index = open_archive_index(dir.path());
  for (const auto& e : events) {
    const auto row = index.get(e.id);
    ASSERT_TRUE(row);
    const auto found = cache.get(row->file_name, row->member_offset)->find(e.id);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->content, e.content);
    EXPECT_EQ(found->sig, e.sig);
  }
  EXPECT_EQ(copy.stats().reads, cache.stats().misses);
  EXPECT_GT(copy.stats().reads, 1u);

  // The day file grows: its copy is extended in place, so the cached members (views into the copy's
  // unchanged records) stay, and the new events come from the copy too.
  const auto held = cache.stats().members;
  ASSERT_GT(held, 0u);
  const auto more = day_events(signer, 10, 100, 'h');
  test::write_archive(dir.path(), more, 2048);
  ASSERT_EQ(copy.refresh(), 1u);
  EXPECT_EQ(cache.stats().members, held);
  auto reads = copy.stats().reads;
  auto row = index.get(events[0].id);
  ASSERT_TRUE(row);
  EXPECT_TRUE(cache.get(row->file_name, row->member_offset)->find(events[0].id));
  EXPECT_EQ(copy.stats().reads, reads);  // a hit
  row = index.get(more[0].id);
  ASSERT_TRUE(row);
  const auto fresh = cache.get(row->file_name, row->member_offset)->find(more[0].id);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->content, more[0].content);
  EXPECT_EQ(copy.stats().reads, reads + 1);

  // The day file swapped in by rename (another inode): its copy is replaced, the cached members
  // (views into the old copy) are dropped so its space can be freed, and are read again from the new one.
  fs::copy_file(dir.path() / row->file_name, dir.path() / "swap.tmp");
  fs::rename(dir.path() / "swap.tmp", dir.path() / row->file_name);
  ASSERT_EQ(copy.refresh(), 1u);
  EXPECT_EQ(cache.stats().members, 0u);
  EXPECT_EQ(cache.stats().bytes, 0u);
  reads = copy.stats().reads;
  row = index.get(events[0].id);
  ASSERT_TRUE(row);
  EXPECT_TRUE(cache.get(row->file_name, row->member_offset)->find(events[0].id));
  EXPECT_EQ(copy.stats().reads, reads + 1);
}

TEST(ServeInflatedCopy, RefusesTheArchiveItselfAndASecondUser) {
  test::TempDir dir, copy_dir;
  EXPECT_THROW(InflatedCopy(dir.path(), dir.path()), std::runtime_error);
  EXPECT_THROW(InflatedCopy(dir.path(), dir.path() / "copy"), std::runtime_error);
  EXPECT_FALSE(fs::exists(dir.path() / "copy"));
  InflatedCopy first(dir.path(), copy_dir.path());
  try {
    InflatedCopy second(dir.path(), copy_dir.path());
    ADD_FAILURE() << "a second user of the copy folder was let in";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("one serve per copy folder"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pb::serve
