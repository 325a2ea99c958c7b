// The daemon's writer stage: group commit (docs/daemon.md, "Commits").
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <memory>
#include <string>

#include "archive/day.hpp"
#include "archive/day_file_reader.hpp"
#include "archive/proto_codec.hpp"
#include "archive/writer.hpp"
#include "archive_test_support.hpp"
#include "daemon/archive_sink.hpp"
#include "daemon/counters.hpp"
#include "daemon/daemon_log.hpp"
#include "ingest/seen_ids.hpp"
#include "test_support.hpp"

namespace pb::daemon {
namespace {

// A writer without fsync or a compression pool (the tests' speed does not depend on the disk or the cores).
std::unique_ptr<ArchiveWriter> quick_writer(const std::filesystem::path& dir) {
  ArchiveWriterOptions o;
  o.fsync = false;
  o.compression_threads = 0;
  return std::make_unique<ArchiveWriter>(dir, o);
}

CheckedEvent event_number(const std::shared_ptr<RelayCounters>& relay, std::uint32_t n) {
  CheckedEvent ev;
  ev.relay = relay;
  ev.id.fill(0x11);
  std::memcpy(ev.id.data(), &n, sizeof n);  // distinct ids
  ev.pubkey.fill(0x22);
  ev.created_at = 1700000000 + n;
  ev.kind = 1;
  ev.record = "record " + std::to_string(n);  // the writer stores record bytes as they are
  return ev;
}

// A backlog (every event queued before the writer starts) of 1,000 events at --batch-size 10, with the
// minimum gap between commits given explicitly so that the count never depends on the machine's speed.
struct Backlog {
  static constexpr std::uint32_t kEvents = 1000;
  static constexpr std::size_t kBatch = 10;
  std::uint64_t commits = 0;

  explicit Backlog(std::chrono::milliseconds min_gap) {
    test::TempDir dir;
    Counters global;
    auto relay = std::make_shared<RelayCounters>("ws://relay.test/", global, -1);
    WorkQueue<CheckedEvent> queue(kEvents);
    for (std::uint32_t n = 0; n < kEvents; ++n) EXPECT_TRUE(queue.push(event_number(relay, n)));
    queue.close();  // the sink drains it and ends
    SeenIds seen;
    DaemonLog log(dir.path(), false);
    SinkStatus status;
    {
      ArchiveSink sink(quick_writer(dir.path() / "archive"), kBatch, std::chrono::hours(1),
                       queue, seen, log, status, {}, min_gap);
      sink.join();
    }
    EXPECT_FALSE(status.failed.load());
    EXPECT_EQ(relay->stored.load(), kEvents);
    ArchiveIndex index = ArchiveIndex::open(dir.path() / "archive" / "index.db", ArchiveIndex::Mode::read_only);
    EXPECT_EQ(index.count(), kEvents);
    commits = status.commits.load();
  }
};

// While events wait, a due commit keeps taking them, up to 64 batches: a commit of 640, then the queue is
// empty but the last commit was less than an hour ago, so the 360 left go with the closing commit. Without
// group commit: 101 commits.
TEST(ArchiveSink, ABacklogIsCommittedInGroupsOfUpTo64Batches) {
  EXPECT_EQ(Backlog(std::chrono::hours(1)).commits, 2u);
}

// With no minimum gap, the tail commits as soon as the queue is empty (640, 360), then the closing commit.
TEST(ArchiveSink, WithoutTheGapACaughtUpWriterCommitsAtOnce) {
  EXPECT_EQ(Backlog(std::chrono::milliseconds(0)).commits, 3u);
}

// compact_sort_by_time: a finished day stored out of time order is rewritten by the writer thread with its
// records in time order, every event kept.
TEST(ArchiveSink, CompactionSortsAFinishedDayByTime) {
  test::TempDir dir;
  Counters global;
  auto relay = std::make_shared<RelayCounters>("ws://relay.test/", global, -1);
  test::Signer signer(12);
  constexpr int kEvents = 300;
  WorkQueue<CheckedEvent> queue(kEvents);
  for (int n = 0; n < kEvents; ++n) {
    Event e;
    e.kind = 1;
    e.created_at = 1672531200 + (kEvents - n) * 60;  // 2023-01-01, newest first
    e.content = "event " + std::to_string(n);
    signer.sign(e);
    CheckedEvent ev;
    ev.relay = relay;
    ev.id = e.id;
    ev.pubkey = e.pubkey;
    ev.created_at = e.created_at;
    ev.kind = e.kind;
    append_record(ev.record, e);
    ev.tags = index_tags(e);
    ASSERT_TRUE(queue.push(std::move(ev)));
  }
  SeenIds seen;
  DaemonLog log(dir.path(), false);
  SinkStatus status;
  {
    ArchiveSink sink(quick_writer(dir.path() / "archive"), 50, std::chrono::milliseconds(10),
                     queue, seen, log, status, {}, std::chrono::milliseconds(0));
    sink.enable_compaction(0, nullptr, /*sort_by_time=*/true);
    for (int i = 0; i < 6000 && status.compactions.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    queue.close();
    sink.join();
  }
  ASSERT_FALSE(status.failed.load());
  ASSERT_EQ(status.compactions.load(), 1u);
  std::vector<std::int64_t> times;
  DayFileReader reader(dir.path() / "archive" / day_file_name(day_number(1672531200)));
  while (const auto rec = reader.next()) {
    Event e;
    ASSERT_FALSE(decode_proto_event(*rec, e));
    times.push_back(e.created_at);
  }
  EXPECT_EQ(times.size(), static_cast<std::size_t>(kEvents));
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
  ArchiveIndex index = ArchiveIndex::open(dir.path() / "archive" / "index.db", ArchiveIndex::Mode::read_only);
  EXPECT_EQ(index.count(), static_cast<std::uint64_t>(kEvents));
}

}  // namespace
}  // namespace pb::daemon
