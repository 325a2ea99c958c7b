// ArchiveWriter with members compressed off its thread: the day files and the index rows are the same
// for any number of compression threads and any in-flight cap; duplicates are refused whether the first
// copy is in an open member, in a member being compressed, written, or committed; tags reach the index;
// relay cursors are written by the next commit only, latest value per URL; a writer dropped with members
// in flight leaves only the committed events. Nothing here depends on timing: the cases hold for every
// interleaving of the compression threads.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "archive/index.hpp"
#include "archive/proto_codec.hpp"
#include "archive/writer.hpp"
#include "nostr/hex.hpp"
#include "test_support.hpp"

namespace pb {
namespace {

namespace fs = std::filesystem;

using test::TempDir;  // tests/unit/test_support.hpp

// Unsigned events (the writer does not verify): distinct ids, spread over `days` days, some tags.
std::vector<Event> make_events(std::size_t n, std::uint32_t seed, int days) {
  std::mt19937_64 rng(seed);
  std::vector<Event> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    Event& e = out[i];
    for (auto& b : e.id) b = static_cast<std::uint8_t>(rng());
    e.pubkey[0] = static_cast<std::uint8_t>(rng() % 7);
    e.created_at = 20'000 * 86'400 + static_cast<std::int64_t>(rng() % days) * 86'400 + static_cast<std::int64_t>(rng() % 86'400);
    e.kind = static_cast<std::int32_t>(rng() % 3);
    if (rng() % 2) e.tags.push_back({"e", fmt::format("v{}", rng() % 5)});
    if (rng() % 3 == 0) e.tags.push_back({"p", fmt::format("w{}", rng() % 5)});
    e.content = std::string(50 + rng() % 400, static_cast<char>('a' + rng() % 26));
  }
  return out;
}

struct Written {
  std::map<std::string, std::string> files;  // name -> bytes
  std::vector<std::string> rows;             // "id file offset kind created_at", sorted
};

Written snapshot(const fs::path& dir) {
  Written w;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".gz") w.files[entry.path().filename().string()] = test::read_file(entry.path());
  auto index = ArchiveIndex::open(dir / "index.db", ArchiveIndex::Mode::read_only);
  for (const auto& r : index.query(IndexQuery{}))
    w.rows.push_back(to_hex(r.id) + " " + r.file_name + " " + std::to_string(r.member_offset) + " " +
                     std::to_string(r.kind) + " " + std::to_string(r.created_at));
  std::sort(w.rows.begin(), w.rows.end());
  return w;
}

// Writes `events` (each given twice when `with_dups`) with commits every `commit_every` events.
Written write_with(const fs::path& dir, const std::vector<Event>& events, int threads, std::size_t inflight,
                   std::size_t commit_every, std::size_t max_pending = 64u << 20) {
  ArchiveWriterOptions o;
  o.member_bytes = 3000;
  o.fsync = false;
  o.compression_threads = threads;
  o.max_inflight_bytes = inflight;
  o.max_pending_bytes = max_pending;
  {
    ArchiveWriter w(dir, o);
    std::string rec;
    std::size_t n = 0;
    for (const auto& e : events) {
      rec.clear();
      append_record(rec, e);
      const auto tags = index_tags(e);
      w.add({e.id, e.pubkey, e.created_at, e.kind, rec, tags});
      if (++n % commit_every == 0) w.commit();
    }
    w.commit();
  }
  return snapshot(dir);
}

TEST(WriterAsyncTest, SameFilesAndRowsForAnyThreadsAndInflightCap) {
  const auto events = make_events(3000, 5, 9);
  TempDir ref_dir;
  const Written ref = write_with(ref_dir.path(), events, 0, 32u << 20, 700);
  ASSERT_EQ(ref.files.size(), 9u);
  ASSERT_EQ(ref.rows.size(), events.size());
  for (int threads : {1, 2, 5}) {
    for (std::size_t inflight : {std::size_t{1}, std::size_t{20000}, std::size_t{32u << 20}}) {
      TempDir d;
      const Written got = write_with(d.path(), events, threads, inflight, 700);
      EXPECT_EQ(got.files, ref.files) << "threads " << threads << " inflight " << inflight;
      EXPECT_EQ(got.rows, ref.rows) << "threads " << threads << " inflight " << inflight;
    }
  }
  // Memory relief (many small open members sealed by size) cuts members the same way too.
  TempDir a, b;
  EXPECT_EQ(write_with(a.path(), events, 0, 1u << 20, 1000, 8000).files,
            write_with(b.path(), events, 3, 1u << 20, 1000, 8000).files);
}

TEST(WriterAsyncTest, DuplicatesRefusedWhereverTheFirstCopyIs) {
  const auto events = make_events(400, 9, 2);
  TempDir d;
  ArchiveWriterOptions o;
  o.member_bytes = 2000;  // members seal often: first copies are open, in flight, written or committed
  o.fsync = false;
  o.compression_threads = 2;
  ArchiveWriter w(d.path(), o);
  std::string rec;
  auto add = [&](const Event& e) {
    rec.clear();
    append_record(rec, e);
    return w.add({e.id, e.pubkey, e.created_at, e.kind, rec, {}});
  };
  for (std::size_t i = 0; i < events.size(); ++i) {
    ASSERT_TRUE(add(events[i]));
    EXPECT_FALSE(add(events[i])) << "right after";
    if (i >= 7) {
      EXPECT_FALSE(add(events[i - 7])) << "a few members back";
    }
    if (i == 150) w.commit();
    if (i > 150) {
      EXPECT_FALSE(add(events[3])) << "committed";
    }
  }
  const auto ids = w.commit();
  EXPECT_EQ(ids.size(), events.size() - 151);
  EXPECT_EQ(w.index().count(), events.size());
}

TEST(WriterAsyncTest, TagsReachTheIndex) {
  TempDir d;
  Event e = make_events(1, 3, 1)[0];
  e.tags = {{"e", "abc"}, {"p", "def"}, {"t", "nostr"}};
  {
    ArchiveWriterOptions o;
    o.fsync = false;
    ArchiveWriter w(d.path(), o);
    std::string rec;
    append_record(rec, e);
    std::vector<IndexTag> tags = index_tags(e);
    ASSERT_TRUE(w.add({e.id, e.pubkey, e.created_at, e.kind, rec, tags}));
    tags.clear();  // the writer keeps its own copy
    w.commit();
  }
  auto index = ArchiveIndex::open(d.path() / "index.db", ArchiveIndex::Mode::read_only);
  IndexQuery q;
  q.tags = {{'p', {"def"}}};
  const auto rows = index.query(q);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, e.id);
  q.tags = {{'p', {"abc"}}};
  EXPECT_TRUE(index.query(q).empty());
}

TEST(WriterAsyncTest, RelayCursorsWrittenByTheNextCommitOnly) {
  TempDir d;
  ArchiveWriterOptions o;
  o.fsync = false;
  {
    ArchiveWriter w(d.path(), o);
    w.stage_relay_cursor("wss://a", 10);
    w.stage_relay_cursor("wss://a", 30);
    w.stage_relay_cursor("wss://b", 5);
    w.commit();
    w.stage_relay_cursor("wss://b", 7);  // never committed: dropped with the writer
  }
  auto index = ArchiveIndex::open(d.path() / "index.db", ArchiveIndex::Mode::read_only);
  const std::map<std::string, std::int64_t> want{{"wss://a", 30}, {"wss://b", 5}};
  EXPECT_EQ(index.relay_cursors(), want);
  {
    ArchiveWriter w(d.path(), o);
    w.commit();  // staged values were forgotten after their commit: nothing rewritten
    w.stage_relay_cursor("wss://b", 9);
    w.commit();
  }
  const std::map<std::string, std::int64_t> want2{{"wss://a", 30}, {"wss://b", 9}};
  EXPECT_EQ(ArchiveIndex::open(d.path() / "index.db", ArchiveIndex::Mode::read_only).relay_cursors(), want2);
}

TEST(WriterAsyncTest, DroppedWriterWithMembersInFlightKeepsOnlyCommittedEvents) {
  const auto events = make_events(2000, 11, 3);
  TempDir d;
  ArchiveWriterOptions o;
  o.member_bytes = 2000;
  o.fsync = false;
  o.compression_threads = 3;
  std::map<std::string, std::uintmax_t> committed_sizes;
  {
    ArchiveWriter w(d.path(), o);
    std::string rec;
    for (std::size_t i = 0; i < events.size(); ++i) {
      rec.clear();
      append_record(rec, events[i]);
      w.add({events[i].id, events[i].pubkey, events[i].created_at, events[i].kind, rec, {}});
      if (i == 999) {
        w.commit();
        for (const auto& f : fs::directory_iterator(d.path()))
          if (f.path().extension() == ".gz") committed_sizes[f.path().filename().string()] = fs::file_size(f.path());
      }
    }
  }  // destroyed without a commit: later members may be written, compressing or queued
  std::map<std::string, std::uintmax_t> after;
  for (const auto& f : fs::directory_iterator(d.path()))
    if (f.path().extension() == ".gz") after[f.path().filename().string()] = fs::file_size(f.path());
  EXPECT_EQ(after, committed_sizes);
  ArchiveWriter w(d.path(), o);
  EXPECT_EQ(w.index().count(), 1000u);
}

}  // namespace
}  // namespace pb
