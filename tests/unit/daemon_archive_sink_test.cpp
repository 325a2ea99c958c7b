// The daemon's writer stage: group commit (docs/daemon.md, "Commits").
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "archive/writer.hpp"
#include "daemon/archive_sink.hpp"
#include "daemon/counters.hpp"
#include "daemon/daemon_log.hpp"
#include "ingest/seen_ids.hpp"
#include "test_support.hpp"

namespace pb::daemon {
namespace {

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
    ArchiveWriterOptions wopt;
    wopt.fsync = false;
    wopt.compression_threads = 0;
    SeenIds seen;
    DaemonLog log(dir.path(), false);
    SinkStatus status;
    {
      ArchiveSink sink(std::make_unique<ArchiveWriter>(dir.path() / "archive", wopt), kBatch, std::chrono::hours(1),
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

}  // namespace
}  // namespace pb::daemon
