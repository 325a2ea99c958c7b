// The query workers' fair scheduling: a sliced job goes to the back of the queue after each slice, so a
// job queued behind a broad query runs before the broad query finishes. One worker and a gate job make
// the order of execution exact (no timing involved).
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "archive/writer.hpp"
#include "serve/worker_pool.hpp"
#include "test_support.hpp"

namespace pb::serve {
namespace {

struct Log {
  std::mutex mu;
  std::vector<std::string> entries;
  void add(std::string s) {
    std::lock_guard lock(mu);
    entries.push_back(std::move(s));
  }
};

TEST(ServeWorkerPool, SlicedJobYieldsToQueuedJobsAfterEachSlice) {
  test::TempDir dir;
  { ArchiveWriter(dir.path(), {}).commit(); }  // an empty archive: the workers open its index
  ServeOptions options;
  options.dir = dir.path();
  options.workers = 1;
  MemberCache cache(dir.path(), 1 << 20);
  WorkerPool pool(options, cache, 16);

  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  ASSERT_TRUE(pool.try_submit([opened](WorkerContext&) { opened.wait(); }));  // holds the only worker

  Log log;
  std::promise<void> finished;
  ASSERT_TRUE(pool.try_submit_sliced([&, slice = 0](WorkerContext&) mutable {
    log.add("broad " + std::to_string(slice));
    if (slice++ < 3) return false;
    finished.set_value();
    return true;
  }));
  ASSERT_TRUE(pool.try_submit([&](WorkerContext&) { log.add("short"); }));
  gate.set_value();
  finished.get_future().wait();
  pool.stop();

  EXPECT_EQ(log.entries, (std::vector<std::string>{"broad 0", "short", "broad 1", "broad 2", "broad 3"}));
}

TEST(ServeWorkerPool, PlainJobsRunInOrder) {
  test::TempDir dir;
  { ArchiveWriter(dir.path(), {}).commit(); }
  ServeOptions options;
  options.dir = dir.path();
  options.workers = 1;
  MemberCache cache(dir.path(), 1 << 20);
  WorkerPool pool(options, cache, 16);
  Log log;
  std::promise<void> done;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool.try_submit([&, i](WorkerContext&) { log.add(std::to_string(i)); }));
  ASSERT_TRUE(pool.try_submit([&](WorkerContext&) { done.set_value(); }));
  done.get_future().wait();
  EXPECT_EQ(log.entries, (std::vector<std::string>{"0", "1", "2"}));
}

}  // namespace
}  // namespace pb::serve
