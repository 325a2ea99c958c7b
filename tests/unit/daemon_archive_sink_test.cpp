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

// A backlog (every event queued before the writer starts): each commit falls due at --batch-size while
// more events wait, so it takes them too, up to 16 batches. 1,000 events at --batch-size 10 make 6 commits
// of 160, one of the last 40 once the queue is empty, and the closing commit (101 commits without group
// commit), and every event is stored once.
TEST(ArchiveSink, ABacklogIsCommittedInGroupsOfUpTo16Batches) {
  test::TempDir dir;
  Counters global;
  auto relay = std::make_shared<RelayCounters>("ws://relay.test/", global, -1);
  constexpr std::uint32_t kEvents = 1000;
  constexpr std::size_t kBatch = 10;
  WorkQueue<CheckedEvent> queue(kEvents);
  for (std::uint32_t n = 0; n < kEvents; ++n) ASSERT_TRUE(queue.push(event_number(relay, n)));
  queue.close();  // the sink drains it and ends

  ArchiveWriterOptions wopt;
  wopt.fsync = false;
  wopt.compression_threads = 0;
  SeenIds seen;
  DaemonLog log(dir.path(), false);
  SinkStatus status;
  {
    ArchiveSink sink(std::make_unique<ArchiveWriter>(dir.path() / "archive", wopt), kBatch, std::chrono::hours(1),
                     queue, seen, log, status, {});
    sink.join();
  }
  EXPECT_FALSE(status.failed.load());
  EXPECT_EQ(status.commits.load(), (kEvents + 16 * kBatch - 1) / (16 * kBatch) + 1);
  EXPECT_EQ(relay->stored.load(), kEvents);
  ArchiveIndex index = ArchiveIndex::open(dir.path() / "archive" / "index.db", ArchiveIndex::Mode::read_only);
  EXPECT_EQ(index.count(), kEvents);
}

}  // namespace
}  // namespace pb::daemon
