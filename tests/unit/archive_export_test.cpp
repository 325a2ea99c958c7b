// Export (file order and index order) and archive stats against brute force over a synthetic archive
// written with ArchiveWriter in many small members: paging, ties across pages, member targeting, the
// committed-length bound and damage reporting.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "query/export.hpp"
#include "ops/stats.hpp"
#include "archive/writer.hpp"
#include "archive/day.hpp"
#include "archive/day_file_reader.hpp"
#include "nostr/json_writer.hpp"
#include "archive/proto_codec.hpp"
#include "archive_test_support.hpp"
#include "test_support.hpp"

namespace pb {
namespace {

using test::write_archive;

constexpr std::int64_t kDay0 = 20'000;  // 2024-10-04

// Events over 4 days, with 8 authors, 5 kinds, and a burst of 40 events sharing one second (so ties on
// created_at span several pages when pages are small). Not signed: export does not verify.
std::vector<Event> make_events(std::size_t n, std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Id32> authors(8);
  for (auto& a : authors)
    for (auto& b : a) b = static_cast<std::uint8_t>(rng());
  const std::int32_t kinds[] = {0, 1, 7, 30023, 65535};
  std::vector<Event> out;
  for (std::size_t i = 0; i < n; ++i) {
    Event e;
    for (auto& b : e.id) b = static_cast<std::uint8_t>(rng());
    e.pubkey = authors[rng() % authors.size()];
    e.created_at = i >= 100 && i < 140 ? (kDay0 + 1) * 86400 + 5000 : (kDay0 + static_cast<std::int64_t>(rng() % 4)) * 86400 + static_cast<std::int64_t>(rng() % 86400);
    e.kind = kinds[rng() % 5];
    e.tags = {{"e", std::to_string(i)}, {"t", "x\"y\\z\n"}};
    e.content = std::string(rng() % 300, 'a' + static_cast<char>(i % 26));
    for (auto& b : e.sig) b = static_cast<std::uint8_t>(rng());
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Event> collect_matching(const std::filesystem::path& dir, const IndexQuery& q, std::size_t chunk,
                                    ExportCounters* counters = nullptr) {
  std::vector<Event> got;
  ExportOptions o;
  o.chunk_rows = chunk;
  // The cap turns a paging bug that repeats rows forever into a failure instead of a hang.
  auto c = export_matching(dir, q, [&](const Event& e) { got.push_back(e); return got.size() < 100'000; }, o);
  EXPECT_LT(got.size(), 100'000u);
  EXPECT_EQ(c.problem_count, 0u);
  EXPECT_EQ(c.events, got.size());
  if (counters) *counters = c;
  return got;
}

// Brute force: filter, then NIP-01 order (newest first, ties by lowest id), then limit.
std::vector<Event> expected_matching(std::vector<Event> all, const IndexQuery& q) {
  auto any = [](const auto& list, const auto& v) { return list.empty() || std::find(list.begin(), list.end(), v) != list.end(); };
  std::erase_if(all, [&](const Event& e) {
    return !any(q.ids, e.id) || !any(q.authors, e.pubkey) || !any(q.kinds, e.kind) || (q.since && e.created_at < *q.since) ||
           (q.until && e.created_at > *q.until);
  });
  std::sort(all.begin(), all.end(), [](const Event& a, const Event& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.id < b.id;
  });
  if (q.limit && all.size() > *q.limit) all.resize(*q.limit);
  return all;
}

class ArchiveExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    events_ = make_events(600, 7);
    write_archive(tmp_.path(), events_, 2048);  // ~2 KiB members: dozens per day file
  }
  const std::filesystem::path& dir() const { return tmp_.path(); }

  test::TempDir tmp_;
  std::vector<Event> events_;
};

TEST_F(ArchiveExportTest, FileOrderIsByDayThenInputOrder) {
  std::vector<Event> got;
  const auto c = export_file_order(dir(), [&](const Event& e) { got.push_back(e); return true; });
  auto want = events_;
  std::stable_sort(want.begin(), want.end(),
                   [](const Event& a, const Event& b) { return day_number(a.created_at) < day_number(b.created_at); });
  EXPECT_EQ(got, want);
  EXPECT_EQ(c.events, events_.size());
  EXPECT_EQ(c.files_read, 4u);
  EXPECT_EQ(c.problem_count, 0u);
  EXPECT_EQ(c.bytes_done, c.bytes_total);
}

TEST_F(ArchiveExportTest, FileOrderStopsWhenTheSinkSaysSo) {
  std::size_t n = 0;
  const auto c = export_file_order(dir(), [&](const Event&) { return ++n < 5; });
  EXPECT_EQ(n, 5u);
  EXPECT_EQ(c.events, 5u);
}

TEST_F(ArchiveExportTest, MatchingEqualsBruteForceForEveryChunkSize) {
  std::vector<IndexQuery> queries(9);
  queries[1].kinds = {1, 7};
  queries[2].authors = {events_[3].pubkey};
  queries[3].authors = {events_[3].pubkey, events_[4].pubkey};
  queries[3].kinds = {0, 30023};
  queries[3].limit = 17;
  queries[4].since = (kDay0 + 1) * 86400;
  queries[4].until = (kDay0 + 2) * 86400 + 3600;
  queries[5].ids = {events_[0].id, events_[599].id, events_[120].id, events_[300].id};
  queries[6].limit = 50;
  queries[6].since = 0;
  queries[7].kinds = {42};  // no match
  queries[8].since = (kDay0 + 1) * 86400 + 5000;  // the 40-event burst (and later)
  queries[8].until = (kDay0 + 1) * 86400 + 5000;
  for (std::size_t qi = 0; qi < queries.size(); ++qi) {
    auto q = queries[qi];
    if (qi == 0) q.since = 0;  // "everything", through the index
    const auto want = expected_matching(events_, q);
    for (const std::size_t chunk : {1u, 3u, 7u, 64u, 100000u}) {
      SCOPED_TRACE("query " + std::to_string(qi) + " chunk " + std::to_string(chunk));
      EXPECT_EQ(collect_matching(dir(), q, chunk), want);
    }
  }
}

TEST_F(ArchiveExportTest, OneIdDecodesOneMember) {
  IndexQuery q;
  q.ids = {events_[333].id};
  ExportCounters c;
  const auto got = collect_matching(dir(), q, 16384, &c);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], events_[333]);
  EXPECT_EQ(c.members_decoded, 1u);
  EXPECT_EQ(c.index_rows, 1u);
  EXPECT_LT(c.records_read, 40u);  // a ~2 KiB member holds a handful of records, never the whole day
}

TEST_F(ArchiveExportTest, EachMemberDecodedAtMostOncePerPage) {
  IndexQuery q;
  q.since = 0;
  ExportCounters c;
  collect_matching(dir(), q, 100000, &c);
  std::size_t members = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir())) {
    if (!parse_day_file_name(f.path().filename().string())) continue;
    std::set<std::uint64_t> offsets;
    DayFileReader r(f.path());
    while (r.next()) offsets.insert(r.record_member_offset());
    members += offsets.size();
  }
  EXPECT_EQ(c.members_decoded, members);
  EXPECT_EQ(c.records_read, events_.size());
}

TEST_F(ArchiveExportTest, UncommittedTailIsNotExported) {
  // A writer mid-transaction has sealed members on disk past the committed lengths.
  ArchiveWriterOptions o;
  o.member_bytes = 256;
  o.fsync = false;
  o.compression_threads = 0;  // members are written as they are sealed, not when a pool thread gets to them
  ArchiveWriter w(dir(), o);
  std::string rec;
  for (const auto& e : make_events(50, 99)) {
    rec.clear();
    append_record(rec, e);
    w.add({e.id, e.pubkey, e.created_at, e.kind, rec, index_tags(e)});
  }
  ASSERT_GT(w.bytes_written(), 0u);
  std::size_t n = 0;
  const auto c = export_file_order(dir(), [&](const Event&) { ++n; return true; });
  EXPECT_EQ(n, events_.size());
  EXPECT_EQ(c.problem_count, 0u);
  const auto s = collect_archive_stats(dir());
  EXPECT_EQ(s.scanned_events, events_.size());
  EXPECT_EQ(s.problem_count, 0u);
}

TEST_F(ArchiveExportTest, DamageIsReportedAndTheRestExported) {
  const auto name = day_file_name(kDay0 + 2);
  const auto path = dir() / name;
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(path) / 2));
    f.write("\xff\xff\xff\xff\xff\xff\xff\xff", 8);
  }
  std::size_t n = 0;
  std::set<Id32> ids;
  for (const auto& e : events_) ids.insert(e.id);
  std::size_t foreign = 0;
  const auto c = export_file_order(dir(), [&](const Event& e) {
    ++n;
    foreign += !ids.contains(e.id);
    return true;
  });
  // One problem, the damaged file: the garbage inflated before the CRC failed is never decoded or passed on.
  ASSERT_EQ(c.problem_count, 1u);
  EXPECT_NE(c.problems.at(0).find(name + " damaged at byte"), std::string::npos) << c.problems[0];
  EXPECT_EQ(foreign, 0u);
  EXPECT_LT(n, events_.size());
  EXPECT_GT(n, events_.size() / 2);  // the other three days are whole

  // Index order: events of the damaged member are reported missing, everything else comes out.
  IndexQuery q;
  q.since = 0;
  ExportOptions o;
  std::size_t m = 0;
  const auto c2 = export_matching(dir(), q, [&](const Event&) { ++m; return true; }, o);
  EXPECT_GE(c2.problem_count, 1u);
  EXPECT_EQ(m + c2.problem_count, events_.size());
}

TEST_F(ArchiveExportTest, MissingArchiveThrows) {
  EXPECT_THROW(export_file_order(dir() / "nope", [](const Event&) { return true; }), std::runtime_error);
  EXPECT_THROW(collect_archive_stats(dir() / "nope"), std::runtime_error);
}

TEST_F(ArchiveExportTest, StatsMatchBruteForce) {
  std::map<std::int32_t, std::uint64_t> kinds;
  std::set<Id32> authors;
  std::uint64_t json = 0, proto = 0;
  std::int64_t lo = events_[0].created_at, hi = lo;
  for (const auto& e : events_) {
    ++kinds[e.kind];
    authors.insert(e.pubkey);
    std::string j, r;
    append_event_json(j, e);
    append_record(r, e);
    json += j.size();
    proto += r.size();
    lo = std::min(lo, e.created_at);
    hi = std::max(hi, e.created_at);
  }
  std::uint64_t disk = 0;
  for (std::int64_t d = 0; d < 4; ++d) disk += std::filesystem::file_size(dir() / day_file_name(kDay0 + d));

  for (const unsigned threads : {1u, 2u, 8u}) {
    ArchiveStatsOptions o;
    o.threads = threads;
    const auto s = collect_archive_stats(dir(), o);
    EXPECT_EQ(s.events, events_.size());
    EXPECT_EQ(s.day_files, 4u);
    EXPECT_EQ(s.first_day, kDay0);
    EXPECT_EQ(s.last_day, kDay0 + 3);
    ASSERT_TRUE(s.created_at);
    EXPECT_EQ(s.created_at->first, lo);
    EXPECT_EQ(s.created_at->second, hi);
    EXPECT_EQ(s.distinct_authors, authors.size());
    ASSERT_EQ(s.kinds.size(), kinds.size());
    for (std::size_t i = 0; i < s.kinds.size(); ++i) {
      EXPECT_EQ(s.kinds[i].events, kinds[s.kinds[i].kind]);
      if (i) {
        EXPECT_GE(s.kinds[i - 1].events, s.kinds[i].events);
      }
    }
    EXPECT_EQ(s.day_file_bytes, disk);
    EXPECT_EQ(s.committed_bytes, disk);
    EXPECT_GT(s.index_bytes, 0u);
    EXPECT_TRUE(s.scanned);
    EXPECT_EQ(s.scanned_events, events_.size());
    EXPECT_EQ(s.json_bytes, json);
    EXPECT_EQ(s.proto_bytes, proto);
    EXPECT_DOUBLE_EQ(s.compression_ratio(), static_cast<double>(json) / static_cast<double>(disk));
    EXPECT_EQ(s.problem_count, 0u);
    EXPECT_EQ(s.unindexed_day_files, 0u);
  }
  ArchiveStatsOptions no_scan;
  no_scan.scan = false;
  const auto s = collect_archive_stats(dir(), no_scan);
  EXPECT_FALSE(s.scanned);
  EXPECT_EQ(s.json_bytes, 0u);
  EXPECT_EQ(s.compression_ratio(), 0.0);
  EXPECT_EQ(s.events, events_.size());
}

TEST(ArchiveIndexAggregates, EmptyIndex) {
  test::TempDir tmp;
  auto idx = ArchiveIndex::open(tmp.path() / "index.db", ArchiveIndex::Mode::read_write);
  EXPECT_TRUE(idx.kind_counts().empty());
  EXPECT_EQ(idx.distinct_authors(), 0u);
  EXPECT_FALSE(idx.created_at_range());
  const auto s = collect_archive_stats(tmp.path());
  EXPECT_EQ(s.events, 0u);
  EXPECT_EQ(s.day_files, 0u);
  EXPECT_FALSE(s.first_day);
  EXPECT_EQ(s.compression_ratio(), 0.0);
}

TEST(ArchiveExportFilter, LimitAloneIsNotAFilter) {
  IndexQuery q;
  EXPECT_FALSE(has_filter(q));
  q.limit = 3;
  EXPECT_FALSE(has_filter(q));
  q.until = 5;
  EXPECT_TRUE(has_filter(q));
}

}  // namespace
}  // namespace pb
