// verify / verify --repair on synthetic archives: crashes at each repair step, the writer finishing an
// interrupted repair, uncommitted writer tails, foreign files whose records span members, framing damage
// with resync, duplicates, and the lock. Events are really signed (one key).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <set>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include "ops/verify.hpp"
#include "archive/writer.hpp"
#include "nostr/canonical.hpp"
#include "archive/day.hpp"
#include "archive/day_file_reader.hpp"
#include "archive/gzip_member.hpp"
#include "nostr/hex.hpp"
#include "base/posix_file.hpp"
#include "archive/proto_codec.hpp"
#include "archive_test_support.hpp"
#include "test_support.hpp"

namespace pb {
namespace {

using test::write_archive;

namespace fs = std::filesystem;
constexpr std::int64_t kDay0 = 20'000;

std::vector<Event> make_events(std::size_t n, std::uint32_t seed, int days = 2) {
  static test::Signer signer(7);
  std::mt19937_64 rng(seed);
  std::vector<Event> out;
  for (std::size_t i = 0; i < n; ++i) {
    Event e;
    e.created_at = (kDay0 + static_cast<std::int64_t>(rng() % static_cast<unsigned>(days))) * 86400 +
                   static_cast<std::int64_t>(rng() % 86400);
    e.kind = 1;
    e.tags = {{"e", std::to_string(i)}, {"seed", std::to_string(seed)}};
    e.content = std::string(50 + rng() % 400, static_cast<char>('a' + i % 26));
    signer.sign(e);
    out.push_back(std::move(e));
  }
  return out;
}

// Hex ids of every decodable record in the day files (hex: readable when a comparison fails).
std::set<std::string> ids_in(const fs::path& dir) {
  std::set<std::string> ids;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!parse_day_file_name(e.path().filename().string())) continue;
    DayFileReader r(e.path());
    Event ev;
    while (auto rec = r.next())
      if (!decode_proto_event(*rec, ev)) ids.insert(to_hex(ev.id));
  }
  return ids;
}

std::uint64_t count(const VerifyReport& r, ProblemKind k) { return r.counts[static_cast<std::size_t>(k)]; }

VerifyOptions quiet() {
  VerifyOptions o;
  o.threads = 2;
  return o;
}

RepairOptions repair_opts() {
  RepairOptions o;
  o.verify = quiet();
  o.fsync = false;
  return o;
}

std::string day_path(const fs::path& dir, int day_offset) { return (dir / day_file_name(kDay0 + day_offset)).string(); }

// Runs repair in a child process that dies (like kill -9) at `step`.
void repair_and_die_at(const fs::path& dir, const std::string& step) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    RepairOptions o = repair_opts();
    o.crash_point = [&](std::string_view s) {
      if (s == step) ::_exit(0);
    };
    try {
      repair_archive(dir, o);
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(3);  // never reached the step
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "child did not reach " << step;
}

// Truncated mid-member, one row deleted, one extra row: a bit of everything repair does.
void damage(const fs::path& dir) {
  const auto p = day_path(dir, 0);
  truncate_to(p, file_size_or_zero(p) - 700);
  ArchiveIndex idx = ArchiveIndex::open(dir / "index.db", ArchiveIndex::Mode::read_write);
  // Rows of the other, intact day file, so the deleted row's event is still there.
  auto rows = idx.query({});
  std::erase_if(rows, [](const IndexRow& r) { return r.file_name != day_file_name(kDay0 + 1); });
  idx.begin();
  std::vector<Id32> gone{rows.at(3).id};
  idx.erase_rows(gone);
  IndexRow fake = rows.at(4);
  fake.id[0] ^= 0xff;
  idx.insert_if_absent(fake);
  idx.commit();
}

TEST(ArchiveVerifyTest, CleanArchiveVerifies) {
  test::TempDir t;
  write_archive(t.path(), make_events(500, 1));
  const auto r = verify_archive(t.path(), quiet());
  EXPECT_TRUE(r.ok()) << r.problems.size();
  EXPECT_EQ(r.records, 500u);
  EXPECT_EQ(r.valid_records, 500u);
  EXPECT_EQ(r.index_rows, 500u);
  EXPECT_EQ(r.files, 2u);
}

TEST(ArchiveVerifyTest, RepairFixesAndReportsEveryKind) {
  test::TempDir t;
  const auto events = make_events(800, 2);
  write_archive(t.path(), events);
  damage(t.path());
  const auto before = verify_archive(t.path(), quiet());
  EXPECT_EQ(count(before, ProblemKind::damaged_file), 1u);
  EXPECT_EQ(count(before, ProblemKind::missing_row), 1u);
  EXPECT_GE(count(before, ProblemKind::orphan_row), 2u);  // the fake row, and rows of the lost tail
  const auto kept = ids_in(t.path());                     // what the reader still gets from the files
  const auto rep = repair_archive(t.path(), repair_opts());
  EXPECT_TRUE(rep.changed);
  EXPECT_TRUE(rep.after.ok());
  EXPECT_EQ(ids_in(t.path()), kept);
  EXPECT_EQ(rep.after.index_rows, kept.size());
  EXPECT_EQ(rep.rows_inserted, 1u);
  EXPECT_EQ(rep.backups.size(), 1u);
  // Idempotent: a second repair finds nothing.
  const auto again = repair_archive(t.path(), repair_opts());
  EXPECT_FALSE(again.changed);
}

TEST(ArchiveVerifyTest, CrashBeforeIndexCommitLeavesArchiveUnchanged) {
  test::TempDir t;
  write_archive(t.path(), make_events(600, 3));
  damage(t.path());
  const auto p = day_path(t.path(), 0);
  const std::string bytes_before = test::read_file(p);
  const auto before = verify_archive(t.path(), quiet());
  repair_and_die_at(t.path(), "prepared");
  EXPECT_EQ(test::read_file(p), bytes_before);
  const auto mid = verify_archive(t.path(), quiet());
  EXPECT_EQ(mid.counts, before.counts);
  // A writer opening now sees the old archive (the truncated file is shorter than committed: not cut).
  { ArchiveWriter w(t.path(), ArchiveWriterOptions{}); }
  const auto rep = repair_archive(t.path(), repair_opts());
  EXPECT_TRUE(rep.after.ok());
}

class CrashAfterCommit : public ::testing::TestWithParam<int> {};

// After the index commit the repair is decided: whoever opens the archive next (a writer, or repair)
// finishes the renames, even when some were already done.
TEST_P(CrashAfterCommit, NextOpenFinishesTheRepair) {
  test::TempDir t;
  write_archive(t.path(), make_events(600, 4));
  damage(t.path());
  // Also a misplaced record, so two files are replaced.
  {
    auto extra = make_events(1, 99, 1);  // day 0 ...
    std::string rec;
    append_record(rec, extra[0]);
    std::string member;
    GzipMemberCompressor(6).compress({reinterpret_cast<const std::uint8_t*>(rec.data()), rec.size()}, member);
    std::ofstream(day_path(t.path(), 1), std::ios::app | std::ios::binary) << member;  // ... in day 1's file
  }
  const auto kept = ids_in(t.path());
  repair_and_die_at(t.path(), "committed");
  const auto mid = verify_archive(t.path(), quiet());
  EXPECT_EQ(count(mid, ProblemKind::interrupted_repair), 1u);
  const fs::path rdir = t.path() / ".proton-beam-repair";
  if (GetParam() == 1) {
    // One rename already happened before the crash.
    for (const auto& e : fs::directory_iterator(rdir))
      if (e.path().extension() == ".new") {
        fs::rename(e.path(), t.path() / e.path().stem());
        break;
      }
  }
  if (GetParam() == 2) {
    const auto rep = repair_archive(t.path(), repair_opts());
    EXPECT_TRUE(rep.after.ok());
  } else {
    ArchiveWriter w(t.path(), ArchiveWriterOptions{});
    EXPECT_FALSE(w.recovery().actions.empty());
  }
  const auto after = verify_archive(t.path(), quiet());
  EXPECT_TRUE(after.ok()) << after.problem_count();
  EXPECT_EQ(ids_in(t.path()), kept);
  EXPECT_EQ(after.index_rows, kept.size());
}
INSTANTIATE_TEST_SUITE_P(Variants, CrashAfterCommit, ::testing::Values(0, 1, 2));

// A writer killed between writing members and committing leaves an uncommitted tail. The writer's next
// open would cut it; repair instead keeps and indexes its complete records, and makes the journal stale
// so a later writer does not cut them after all.
TEST(ArchiveVerifyTest, UncommittedTailIsIndexedAndJournalRetired) {
  test::TempDir t;
  const auto first = make_events(300, 5);
  write_archive(t.path(), first);
  const auto more = make_events(300, 6);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ArchiveWriterOptions o;
    o.member_bytes = 4096;
    o.fsync = false;
    o.compression_threads = 0;  // sealed members reach the file at once, before the simulated kill
    ArchiveWriter w(t.path(), o);
    std::string rec;
    for (const auto& e : more) {
      rec.clear();
      append_record(rec, e);
      w.add({e.id, e.pubkey, e.created_at, e.kind, rec, index_tags(e)});
    }
    ::_exit(0);  // no commit, no destructor: like kill -9
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  const auto before = verify_archive(t.path(), quiet());
  EXPECT_GE(count(before, ProblemKind::uncommitted_write), 1u);
  EXPECT_GT(count(before, ProblemKind::missing_row), 0u);
  const auto on_disk = ids_in(t.path());
  EXPECT_GT(on_disk.size(), first.size());
  const auto rep = repair_archive(t.path(), repair_opts());
  EXPECT_TRUE(rep.after.ok());
  { ArchiveWriter w(t.path(), ArchiveWriterOptions{}); }  // must not cut the now-indexed tail
  const auto after = verify_archive(t.path(), quiet());
  EXPECT_TRUE(after.ok());
  EXPECT_EQ(ids_in(t.path()), on_disk);
}

// Another tool's file: one gzip stream cut into members at arbitrary bytes, so records span members.
// No index.db either. Repair must notice that byte-range copies would tear records and re-encode.
TEST(ArchiveVerifyTest, ForeignFileWithRecordsSpanningMembers) {
  test::TempDir t;
  const auto events = make_events(200, 7, 1);
  std::string stream;
  for (const auto& e : events) append_record(stream, e);
  std::string file;
  GzipMemberCompressor gz(6);
  std::vector<std::uint64_t> starts;
  for (std::size_t pos = 0; pos < stream.size(); pos += 1777) {
    starts.push_back(file.size());
    const std::size_t n = std::min<std::size_t>(1777, stream.size() - pos);
    gz.compress({reinterpret_cast<const std::uint8_t*>(stream.data() + pos), n}, file);
  }
  file.resize(file.size() - 30);  // tear the last member
  std::ofstream(day_path(t.path(), 0), std::ios::binary) << file;
  const auto expect = ids_in(t.path());
  const auto before = verify_archive(t.path(), quiet());
  EXPECT_EQ(count(before, ProblemKind::damaged_file), 1u);
  EXPECT_EQ(count(before, ProblemKind::missing_row), expect.size());
  const auto rep = repair_archive(t.path(), repair_opts());
  EXPECT_TRUE(rep.after.ok()) << rep.after.problem_count();
  EXPECT_EQ(ids_in(t.path()), expect);
  EXPECT_EQ(rep.after.index_rows, expect.size());
}

// A corrupt record length inside intact gzip: reading stops there, resumes at the next member, and the
// records of the broken member after the bad prefix are the only ones lost.
TEST(ArchiveVerifyTest, FramingDamageResyncsAtNextMember) {
  test::TempDir t;
  const auto events = make_events(30, 8, 1);
  std::string file;
  GzipMemberCompressor gz(6);
  auto member = [&](std::size_t from, std::size_t to, bool break_it) {
    std::string raw;
    if (break_it) raw += "\xff\xff\xff\xff\x0f";  // length far above the record limit
    for (std::size_t i = from; i < to; ++i) append_record(raw, events[i]);
    gz.compress({reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()}, file);
  };
  member(0, 10, false);
  const std::uint64_t bad = file.size();
  member(10, 20, true);
  member(20, 30, false);
  std::ofstream(day_path(t.path(), 0), std::ios::binary) << file;
  const auto before = verify_archive(t.path(), quiet());
  ASSERT_EQ(count(before, ProblemKind::damaged_file), 1u);
  const auto& p = *std::find_if(before.problems.begin(), before.problems.end(),
                                [](const Problem& x) { return x.kind == ProblemKind::damaged_file; });
  EXPECT_EQ(p.offset, bad);
  EXPECT_EQ(before.records, 20u);
  const auto rep = repair_archive(t.path(), repair_opts());
  EXPECT_TRUE(rep.after.ok());
  std::set<std::string> expect;
  for (std::size_t i = 0; i < 30; ++i)
    if (i < 10 || i >= 20) expect.insert(to_hex(events[i].id));
  EXPECT_EQ(ids_in(t.path()), expect);
}

TEST(ArchiveVerifyTest, DuplicatesKeepOneCopy) {
  test::TempDir t;
  const auto events = make_events(300, 9, 1);
  write_archive(t.path(), events);
  const auto p = day_path(t.path(), 0);
  const std::string bytes = test::read_file(p);
  std::ofstream(p, std::ios::app | std::ios::binary) << bytes;  // every record twice
  const auto before = verify_archive(t.path(), quiet());
  EXPECT_EQ(count(before, ProblemKind::duplicate_id), 300u);
  EXPECT_EQ(before.valid_records, 300u);
  const auto rep = repair_archive(t.path(), repair_opts());
  EXPECT_TRUE(rep.after.ok());
  EXPECT_EQ(rep.after.records, 300u);
  EXPECT_EQ(rep.records_dropped, 300u);
  EXPECT_EQ(rep.rows_updated + rep.rows_inserted + rep.rows_deleted, 0u);  // the first copies stay in place
  EXPECT_EQ(test::read_file(p), bytes);
}

TEST(ArchiveVerifyTest, LockIsRespected) {
  test::TempDir t;
  write_archive(t.path(), make_events(50, 10));
  {
    ArchiveWriter w(t.path(), ArchiveWriterOptions{});
    EXPECT_THROW(verify_archive(t.path(), quiet()), std::runtime_error);
    EXPECT_THROW(repair_archive(t.path(), repair_opts()), std::runtime_error);
  }
  EXPECT_TRUE(verify_archive(t.path(), quiet()).ok());
  EXPECT_THROW(verify_archive(t.path() / "nope", quiet()), std::runtime_error);
}

TEST(ArchiveVerifyTest, ProblemListsAreCappedButCountsExact) {
  test::TempDir t;
  write_archive(t.path(), make_events(400, 11, 1));
  ArchiveIndex idx = ArchiveIndex::open(t.path() / "index.db", ArchiveIndex::Mode::read_write);
  idx.begin();
  std::vector<Id32> ids;
  for (const auto& r : idx.query({})) ids.push_back(r.id);
  idx.erase_rows(ids);
  idx.commit();
  VerifyOptions o = quiet();
  o.max_listed = 7;
  const auto r = verify_archive(t.path(), o);
  EXPECT_EQ(count(r, ProblemKind::missing_row), 400u);
  const auto listed = std::count_if(r.problems.begin(), r.problems.end(),
                                    [](const Problem& p) { return p.kind == ProblemKind::missing_row; });
  EXPECT_EQ(listed, 7);
  // Listed in file order: record numbers ascend.
  EXPECT_EQ(r.problems.front().record, 1u);
}

}  // namespace
}  // namespace pb
