// DigestCache: an unchanged file's sha256 comes from the cache; any change (length, content with a new
// mtime, a file replaced by rename, another prefix) reads the file again; the cache survives a reload and
// keeps only the files used.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "s3/digest_cache.hpp"
#include "s3/file_digest.hpp"
#include "test_support.hpp"

namespace pb::s3 {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text, std::ios::openmode mode = std::ios::trunc) {
  std::ofstream(p, std::ios::binary | mode) << text;
}
void set_mtime_ns(const fs::path& p, std::int64_t sec, long nsec) {  // explicit times: no clock involved
  const timespec times[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
}

struct Counting {
  int calls = 0;
  DigestCache::Compute fn() {
    return [this](const fs::path& p, std::uint64_t size) {
      ++calls;
      return file_digest_hex(p, size, "SHA256");
    };
  }
};

TEST(DigestCache, UnchangedFilesAreNotReadAgainAcrossReloads) {
  test::TempDir dir;
  const fs::path f = dir.path() / "2024-01-01.pb.gz", cache = dir.path() / "sha256-cache";
  write(f, "day one");
  set_mtime_ns(f, 1700000000, 5);
  Counting c;
  const std::string want = file_digest_hex(f, 7, "SHA256");
  {
    DigestCache d(cache, c.fn());
    EXPECT_EQ(d.sha256(f, 7), want);
    EXPECT_EQ(d.sha256(f, 7), want);
    EXPECT_EQ(c.calls, 1);
    EXPECT_EQ(d.hits(), 1u);
    d.save();
  }
  DigestCache again(cache, c.fn());
  EXPECT_EQ(again.sha256(f, 7), want);
  EXPECT_EQ(c.calls, 1);
  EXPECT_EQ(again.sha256(f, 3), file_digest_hex(f, 3, "SHA256"));  // another prefix: read
  EXPECT_EQ(c.calls, 2);
}

TEST(DigestCache, AnyChangeToTheFileMeansReadingItAgain) {
  test::TempDir dir;
  const fs::path f = dir.path() / "2024-01-01.pb.gz";
  write(f, "aaaa");
  set_mtime_ns(f, 1700000000, 0);
  Counting c;
  DigestCache d(dir.path() / "cache", c.fn());
  d.sha256(f, 4);
  write(f, "bbbb");  // same length, new content: the mtime differs
  set_mtime_ns(f, 1700000000, 1);
  EXPECT_EQ(d.sha256(f, 4), file_digest_hex(f, 4, "SHA256"));
  EXPECT_EQ(c.calls, 2);
  write(f, "cc", std::ios::app);  // appended, mtime put back: the length differs
  set_mtime_ns(f, 1700000000, 1);
  EXPECT_EQ(d.sha256(f, 4), file_digest_hex(f, 4, "SHA256"));
  EXPECT_EQ(c.calls, 3);
  const fs::path other = dir.path() / "replacement";  // replaced by rename, same length and mtime
  write(other, "bbbbcc");
  set_mtime_ns(other, 1700000000, 1);
  fs::rename(other, f);
  d.sha256(f, 4);
  EXPECT_EQ(c.calls, 4);
  EXPECT_EQ(d.hits(), 0u);
}

TEST(DigestCache, SavesOnlyTheFilesUsedAndIgnoresAGarbledCache) {
  test::TempDir dir;
  const fs::path cache = dir.path() / "cache", a = dir.path() / "a", b = dir.path() / "b";
  write(a, "a");
  write(b, "b");
  Counting c;
  {
    DigestCache d(cache, c.fn());
    d.sha256(a, 1);
    d.sha256(b, 1);
    d.save();
  }
  {
    DigestCache d(cache, c.fn());
    d.sha256(a, 1);  // b is gone from the archive
    d.save();
  }
  DigestCache d(cache, c.fn());
  d.sha256(b, 1);
  EXPECT_EQ(c.calls, 3);  // a, b, then b again: only a was kept
  write(cache, "not a cache\n\n" + std::string(64, 'f') + " 1 2\n");
  DigestCache garbled(cache, c.fn());
  EXPECT_EQ(garbled.sha256(a, 1), file_digest_hex(a, 1, "SHA256"));
}

}  // namespace
}  // namespace pb::s3
