// Compaction (archive/compact.hpp): a day written in many tiny commits is rewritten into exactly the file
// one transaction writes; the index follows; a kill at each step leaves an archive the next writer open
// completes; an export in flight across the swap still finds every event; damaged files are left alone.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <random>
#include <set>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include "archive/compact.hpp"
#include "archive/day.hpp"
#include "archive/proto_codec.hpp"
#include "archive/repair_journal.hpp"
#include "archive/writer.hpp"
#include "base/posix_file.hpp"
#include "nostr/canonical.hpp"
#include "nostr/hex.hpp"
#include "nostr/json_writer.hpp"
#include "ops/verify.hpp"
#include "query/export.hpp"
#include "archive_test_support.hpp"
#include "test_support.hpp"

namespace pb {
namespace {

namespace fs = std::filesystem;
constexpr std::int64_t kDay = 19'800;  // 2024-03-18
constexpr std::size_t kMemberBytes = 64 << 10;  // small members keep the test fast; several per day

// Text-like content (words from a small vocabulary): compresses like real notes, not like a repeated byte.
std::vector<Event> make_events(std::size_t n, std::uint32_t seed) {
  static test::Signer signer(9);
  static const char* words[] = {"nostr", "relay", "zap", "the", "of", "bitcoin", "note", "gm", "and", "key",
                                "event", "pubkey", "sats", "lightning", "to", "a", "is", "client", "follow", "post"};
  std::mt19937_64 rng(seed);
  std::vector<Event> out;
  for (std::size_t i = 0; i < n; ++i) {
    Event e;
    e.created_at = kDay * 86400 + static_cast<std::int64_t>(rng() % 86400);
    e.kind = i % 5 == 0 ? 7 : 1;
    e.tags = {{"t", words[rng() % 20]}, {"p", std::string(64, "0123456789abcdef"[rng() % 16])}};
    for (std::size_t w = 0, n_words = 10 + rng() % 60; w < n_words; ++w) {
      if (w) e.content += ' ';
      e.content += words[rng() % 20];
    }
    signer.sign(e);
    out.push_back(std::move(e));
  }
  return out;
}

ArchiveWriterOptions writer_options() {
  ArchiveWriterOptions o;
  o.member_bytes = kMemberBytes;
  o.fsync = false;
  o.compression_threads = 0;
  return o;
}

// The daemon's way of writing: a commit every `batch` events, so every commit seals tiny members.
void write_in_batches(const fs::path& dir, const std::vector<Event>& events, std::size_t batch) {
  ArchiveWriter w(dir, writer_options());
  std::string rec;
  for (std::size_t i = 0; i < events.size(); ++i) {
    rec.clear();
    append_record(rec, events[i]);
    const Event& e = events[i];
    ASSERT_TRUE(w.add({e.id, e.pubkey, e.created_at, e.kind, rec, index_tags(e)}));
    if ((i + 1) % batch == 0) w.commit();
  }
  w.commit();
}

std::string day_file(const fs::path& dir) { return (dir / day_file_name(kDay)).string(); }

// id -> (file, member offset) of every row.
std::map<std::string, std::pair<std::string, std::uint64_t>> rows_of(const fs::path& dir) {
  ArchiveIndex idx = ArchiveIndex::open(dir / "index.db", ArchiveIndex::Mode::read_only);
  std::map<std::string, std::pair<std::string, std::uint64_t>> out;
  idx.for_each_row_created_between(INT64_MIN / 2, INT64_MAX / 2,
                                   [&](const IndexRow& r) { out[to_hex(r.id)] = {r.file_name, r.member_offset}; });
  return out;
}

std::string export_all(const fs::path& dir) {
  std::string out;
  const auto c = export_file_order(dir, [&](const Event& e) {
    append_event_json(out, e);
    out += '\n';
    return true;
  });
  EXPECT_EQ(c.problem_count, 0u) << (c.problems.empty() ? "" : c.problems.front());
  return out;
}

VerifyReport verify(const fs::path& dir) {
  VerifyOptions o;
  o.threads = 2;
  return verify_archive(dir, o);
}

CompactResult compact(const fs::path& dir, const CompactOptions& o = {}) {
  ArchiveWriter w(dir, writer_options());
  return compact_day_file(w, day_file_name(kDay), o);
}

TEST(Compact, ManyTinyCommitsBecomeWhatOneTransactionWrites) {
  const auto events = make_events(3000, 1);
  test::TempDir tiny, whole;
  write_in_batches(tiny.path(), events, 10);
  test::write_archive(whole.path(), events, kMemberBytes);
  const std::string before = export_all(tiny.path());
  const auto before_size = file_size_or_zero(day_file(tiny.path()));
  const auto whole_size = file_size_or_zero(day_file(whole.path()));

  const CompactResult r = compact(tiny.path());
  ASSERT_TRUE(r.compacted) << r.skipped;
  EXPECT_EQ(r.members_before, 300u);
  EXPECT_EQ(r.events, 3000u);
  // The same records in the same order, sealed at the same sizes: byte for byte the one-transaction file.
  EXPECT_EQ(test::read_file(day_file(tiny.path())), test::read_file(day_file(whole.path())));
  EXPECT_EQ(r.bytes_after, whole_size);
  EXPECT_EQ(rows_of(tiny.path()), rows_of(whole.path()));
  EXPECT_EQ(export_all(tiny.path()), before);
  EXPECT_TRUE(verify(tiny.path()).ok());
  EXPECT_FALSE(fs::exists(tiny.path() / kRepairDirName));
  std::printf("[ measured ] 3000 events in 300 commits: %llu bytes, after compaction %llu, one transaction %llu "
              "(before/one = %.3f, after/one = %.3f)\n",
              static_cast<unsigned long long>(before_size), static_cast<unsigned long long>(r.bytes_after),
              static_cast<unsigned long long>(whole_size), static_cast<double>(before_size) / static_cast<double>(whole_size),
              static_cast<double>(r.bytes_after) / static_cast<double>(whole_size));
}

TEST(Compact, WriterAppendsCorrectlyAfterCompacting) {
  const auto events = make_events(1200, 2);
  const std::vector<Event> first(events.begin(), events.begin() + 1000), later(events.begin() + 1000, events.end());
  test::TempDir t;
  write_in_batches(t.path(), first, 20);
  {
    ArchiveWriter w(t.path(), writer_options());
    CompactOptions force;  // 50 members of 20 events: above the policy's threshold, compacted anyway
    force.force = true;
    ASSERT_TRUE(compact_day_file(w, day_file_name(kDay), force).compacted);
    // Late events for the same day, through the writer that compacted: appended at the new end.
    std::string rec;
    for (const Event& e : later) {
      rec.clear();
      append_record(rec, e);
      ASSERT_TRUE(w.add({e.id, e.pubkey, e.created_at, e.kind, rec, index_tags(e)}));
    }
    w.commit();
  }
  const VerifyReport v = verify(t.path());
  EXPECT_TRUE(v.ok()) << (v.problems.empty() ? "" : v.problems.front().message);
  EXPECT_EQ(v.valid_records, 1200u);
}

// --sort-by-time: the records come out in (created_at, id) order, every row names its record's new member,
// nothing is lost; a file already in that order is left alone; a day over the memory bound is skipped.
TEST(Compact, SortByTimeOrdersTheRecordsAndKeepsEveryRow) {
  const auto events = make_events(2000, 5);  // created_at random within the day
  test::TempDir t;
  test::write_archive(t.path(), events, kMemberBytes);  // normal members: only the sort makes it rewrite
  CompactOptions sort;
  sort.sort_by_time = true;
  sort.sort_max_bytes = 1000;  // far below the day's records
  CompactResult r = compact(t.path(), sort);
  EXPECT_FALSE(r.compacted);
  EXPECT_NE(r.skipped.find("too large to sort"), std::string::npos) << r.skipped;
  sort.sort_max_bytes = std::size_t{1} << 30;
  r = compact(t.path(), sort);
  ASSERT_TRUE(r.compacted) << r.skipped;
  EXPECT_TRUE(r.sorted);
  EXPECT_EQ(r.events, 2000u);

  std::vector<std::pair<std::int64_t, Id32>> stored, want;
  for (const Event& e : events) want.emplace_back(e.created_at, e.id);
  std::sort(want.begin(), want.end());
  const auto c = export_file_order(t.path(), [&](const Event& e) {
    stored.emplace_back(e.created_at, e.id);
    return true;
  });
  EXPECT_EQ(c.problem_count, 0u);
  EXPECT_EQ(stored, want);  // every event once, in time order
  const VerifyReport v = verify(t.path());  // verify checks each row against its member
  EXPECT_TRUE(v.ok()) << (v.problems.empty() ? "" : v.problems.front().message);
  EXPECT_EQ(v.valid_records, 2000u);
  // Every row names the member that now holds its record.
  const auto rows = rows_of(t.path());
  ASSERT_EQ(rows.size(), 2000u);
  std::map<std::string, std::uint64_t> member_of;
  read_committed_records(day_file(t.path()), file_size_or_zero(day_file(t.path())),
                         [&](std::string_view rec, std::uint64_t member) {
                           Event e;
                           EXPECT_FALSE(decode_proto_event(rec, e));
                           member_of[to_hex(e.id)] = member;
                           return true;
                         });
  for (const auto& [id, where] : rows) EXPECT_EQ(where.second, member_of.at(id)) << id;

  r = compact(t.path(), sort);
  EXPECT_FALSE(r.compacted);
  EXPECT_EQ(r.skipped, "already in time order");
}

TEST(Compact, PolicySkipsLargeMembersAndForceStillNeedsAGain) {
  const auto events = make_events(600, 3);
  test::TempDir t;
  test::write_archive(t.path(), events, kMemberBytes);
  const auto bytes = test::read_file(day_file(t.path()));
  EXPECT_EQ(compact(t.path()).skipped, "its members are already large");
  CompactOptions force;
  force.force = true;
  const CompactResult r = compact(t.path(), force);
  EXPECT_FALSE(r.compacted);
  EXPECT_EQ(r.skipped, "rewriting would not make it smaller");
  EXPECT_EQ(test::read_file(day_file(t.path())), bytes);
  EXPECT_FALSE(fs::exists(t.path() / kRepairDirName / (day_file_name(kDay) + ".new")));
}

TEST(Compact, DamagedFileIsLeftForRepair) {
  const auto events = make_events(500, 4);
  test::TempDir t;
  write_in_batches(t.path(), events, 10);
  // Flip a byte inside the committed bytes (the middle of some member's deflate data).
  const auto path = day_file(t.path());
  std::string bytes = test::read_file(path);
  bytes[bytes.size() / 2] ^= 0x55;
  {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }
  const CompactResult r = compact(t.path());
  EXPECT_FALSE(r.compacted);
  EXPECT_FALSE(r.failed);
  EXPECT_NE(r.skipped.find("verify --repair"), std::string::npos) << r.skipped;
  EXPECT_EQ(test::read_file(path), bytes);
}

// An export in index order whose page of rows was read before the swap: every later member of the page
// is looked up at a stale offset, and each event is still found (at its new member) exactly once.
TEST(Compact, ExportInFlightAcrossTheSwapMissesNothing) {
  const auto events = make_events(2000, 5);
  test::TempDir t;
  write_in_batches(t.path(), events, 10);
  IndexQuery q;
  q.kinds = {1, 7};
  std::set<std::string> seen;
  std::uint64_t duplicates = 0;
  bool compacted = false;
  ExportOptions eo;
  eo.chunk_rows = 5000;  // one page: its rows were all read before the compaction below
  const auto c = export_matching(t.path(), q, [&](const Event& e) {
    duplicates += !seen.insert(to_hex(e.id)).second;
    if (!compacted) {
      compacted = compact(t.path()).compacted;  // a writer in another process would do the same
      EXPECT_TRUE(compacted);
    }
    return true;
  }, eo);
  EXPECT_TRUE(compacted);
  EXPECT_EQ(c.problem_count, 0u) << (c.problems.empty() ? "" : c.problems.front());
  EXPECT_EQ(seen.size(), events.size());
  EXPECT_EQ(duplicates, 0u);
}

// Compacts in a child process that dies (like kill -9: no destructors, no rollback) at `step`.
void compact_and_die_at(const fs::path& dir, const std::string& step) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    CompactOptions o;
    o.crash_point = [&](std::string_view s) {
      if (s == step) ::_exit(0);
    };
    try {
      ArchiveWriter w(dir, writer_options());
      compact_day_file(w, day_file_name(kDay), o);
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

TEST(Compact, KillAtEveryStepLeavesACompleteArchive) {
  const auto events = make_events(1500, 6);
  test::TempDir whole;
  test::write_archive(whole.path(), events, kMemberBytes);
  const std::string compacted_bytes = test::read_file(day_file(whole.path()));
  for (const std::string step : {"writing", "prepared", "committed", "renamed", "done"}) {
    SCOPED_TRACE(step);
    test::TempDir t;
    write_in_batches(t.path(), events, 10);
    const std::string original = test::read_file(day_file(t.path()));
    const std::string exported = export_all(t.path());
    compact_and_die_at(t.path(), step);
    const bool past_commit = step != "writing" && step != "prepared";
    if (step == "committed") {
      // Before anyone opens it as a writer, plain verify names the unfinished swap.
      const VerifyReport v = verify(t.path());
      EXPECT_EQ(v.counts[static_cast<std::size_t>(ProblemKind::interrupted_repair)], 1u);
    }
    { ArchiveWriter w(t.path(), writer_options()); }  // the next open completes or ignores what was left
    EXPECT_EQ(test::read_file(day_file(t.path())), past_commit ? compacted_bytes : original);
    const VerifyReport v = verify(t.path());
    EXPECT_TRUE(v.ok()) << (v.problems.empty() ? "" : v.problems.front().message);
    EXPECT_EQ(v.valid_records, events.size());
    EXPECT_EQ(export_all(t.path()), exported);
    // A compaction after the crash finishes the job (or finds nothing left to do).
    const CompactResult again = compact(t.path());
    EXPECT_EQ(again.compacted, !past_commit) << again.skipped;
    EXPECT_EQ(test::read_file(day_file(t.path())), compacted_bytes);
    EXPECT_TRUE(verify(t.path()).ok());
  }
}

TEST(Compact, RefusesWhileAnotherWriterHoldsTheArchive) {
  test::TempDir t;
  write_in_batches(t.path(), make_events(100, 7), 10);
  ArchiveWriter holder(t.path(), writer_options());
  EXPECT_THROW(compact(t.path()), std::runtime_error);
}

}  // namespace
}  // namespace pb
