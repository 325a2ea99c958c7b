// The query workers' fair scheduling (a multi-level feedback queue): a sliced job goes one level down after
// each slice, so a job queued behind a broad query runs before the broad query finishes, a new job runs
// before the next slices of started ones, and a deeper level waits for at most WorkerPool::kBurst picks;
// small new jobs start ahead of other new ones, which wait for at most kBurst of them. One worker and a gate job make the order of
// execution exact (no timing involved).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <memory>
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
  LiveOptions live(options);
  WorkerPool pool(options, live, cache, 16);

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

struct OneWorker {
  test::TempDir dir;
  ServeOptions options;
  MemberCache cache{dir.path(), 1 << 20};
  std::unique_ptr<LiveOptions> live;
  std::unique_ptr<WorkerPool> pool;
  std::promise<void> gate;
  OneWorker() {
    { ArchiveWriter(dir.path(), {}).commit(); }
    options.dir = dir.path();
    options.workers = 1;
    options.slice_ms = 10;
    options.first_slice_ms = 2;
    live = std::make_unique<LiveOptions>(options);
    pool = std::make_unique<WorkerPool>(options, *live, cache, 64);
    std::shared_future<void> opened = gate.get_future().share();
    std::promise<void> holding;
    EXPECT_TRUE(pool->try_submit([opened, &holding](WorkerContext&) {  // holds the only worker
      holding.set_value();
      opened.wait();
    }));
    holding.get_future().wait();  // running: a small job queued next cannot start before it
  }
};

// A job that takes `slices` slices, logging each with the slice length it was given.
std::function<bool(WorkerContext&)> broad(Log& log, std::string name, int slices, std::promise<void>* done = nullptr,
                                          std::function<void()> in_second_slice = {}) {
  return [&log, name, slices, done, in_second_slice, slice = 0](WorkerContext& w) mutable {
    log.add(fmt::format("{}{}/{}", name, slice, w.slice.count()));
    if (slice == 1 && in_second_slice) in_second_slice();
    if (++slice < slices) return false;
    if (done) done->set_value();
    return true;
  };
}

TEST(ServeWorkerPool, ANewJobRunsBeforeTheNextSlicesOfStartedOnes) {
  OneWorker w;
  Log log;
  std::promise<void> finished;
  // a and b both started; during a's second slice a short job arrives: it runs before b's second slice.
  ASSERT_TRUE(w.pool->try_submit_sliced(broad(log, "a", 3, nullptr, [&] {
    EXPECT_TRUE(w.pool->try_submit([&](WorkerContext&) { log.add("short"); }));
  })));
  ASSERT_TRUE(w.pool->try_submit_sliced(broad(log, "b", 3, &finished)));
  w.gate.set_value();
  finished.get_future().wait();
  w.pool->stop();
  // Slices double with the level: 2, 4, 8 ms, then slice_ms (10).
  EXPECT_EQ(log.entries, (std::vector<std::string>{"a0/2", "b0/2", "a1/4", "short", "b1/4", "a2/8", "b2/8"}));
}

TEST(ServeWorkerPool, AJobThatHasRunLessGoesFirst) {
  OneWorker w;
  Log log;
  std::promise<void> finished;
  // b arrives while a runs its third slice: b's three slices all run before a's fourth.
  ASSERT_TRUE(w.pool->try_submit_sliced([&, slice = 0](WorkerContext& c) mutable {
    log.add(fmt::format("a{}/{}", slice, c.slice.count()));
    if (slice == 2) {
      EXPECT_TRUE(w.pool->try_submit_sliced(broad(log, "b", 3)));
    }
    if (++slice < 5) return false;
    finished.set_value();
    return true;
  }));
  w.gate.set_value();
  finished.get_future().wait();
  w.pool->stop();
  EXPECT_EQ(log.entries,
            (std::vector<std::string>{"a0/2", "a1/4", "a2/8", "b0/2", "b1/4", "b2/8", "a3/10", "a4/10"}));
}

TEST(ServeWorkerPool, AStartedJobRunsAfterAtMostABurstOfNewOnes) {
  OneWorker w;
  Log log;
  std::promise<void> finished;
  ASSERT_TRUE(w.pool->try_submit_sliced(broad(log, "a", 2)));
  const unsigned n = WorkerPool::kBurst + 2;
  for (unsigned i = 0; i < n; ++i)
    ASSERT_TRUE(w.pool->try_submit([&, i](WorkerContext&) { log.add(fmt::format("s{}", i)); }));
  ASSERT_TRUE(w.pool->try_submit([&](WorkerContext&) { finished.set_value(); }));
  w.gate.set_value();
  finished.get_future().wait();
  w.pool->stop();
  // a0 is picked while nothing else waits; then kBurst new jobs, a's second slice, the rest.
  std::vector<std::string> want{"a0/2"};
  for (unsigned i = 0; i < WorkerPool::kBurst; ++i) want.push_back(fmt::format("s{}", i));
  want.push_back("a1/4");
  for (unsigned i = WorkerPool::kBurst; i < n; ++i) want.push_back(fmt::format("s{}", i));
  EXPECT_EQ(log.entries, want);
}

TEST(ServeWorkerPool, ASmallJobStartsAheadOfOtherNewJobs) {
  OneWorker w;
  Log log;
  std::promise<void> finished;
  ASSERT_TRUE(w.pool->try_submit_sliced(broad(log, "b", 2, &finished)));
  ASSERT_TRUE(w.pool->try_submit_sliced(broad(log, "s", 1), /*small=*/true));
  w.gate.set_value();
  finished.get_future().wait();
  w.pool->stop();
  // The small job gets a first slice too (2 ms), and the broad one's next slice a level-1 slice.
  EXPECT_EQ(log.entries, (std::vector<std::string>{"s0/2", "b0/2", "b1/4"}));
}

TEST(ServeWorkerPool, ASmallJobKeepsItsPlaceForItsFirstSlicesOnly) {
  OneWorker w;
  Log log;
  std::promise<void> finished;
  ASSERT_TRUE(w.pool->try_submit_sliced(broad(log, "b", 2, &finished)));
  ASSERT_TRUE(w.pool->try_submit_sliced(broad(log, "s", 1 + WorkerPool::kSmallSlices), true));
  w.gate.set_value();
  finished.get_future().wait();
  w.pool->stop();
  std::vector<std::string> want;
  for (unsigned i = 0; i < WorkerPool::kSmallSlices; ++i) want.push_back(fmt::format("s{}/2", i));
  // Then it sank to level 1: the new job b starts first; both continue at level 1 (4 ms), s arrived there first.
  const auto k = WorkerPool::kSmallSlices;
  want.insert(want.end(), {"b0/2", fmt::format("s{}/4", k), "b1/4"});
  EXPECT_EQ(log.entries, want);
}

TEST(ServeWorkerPool, NewJobsWaitForAtMostABurstOfSmallOnes) {
  OneWorker w;
  Log log;
  std::promise<void> finished;
  ASSERT_TRUE(w.pool->try_submit_sliced(broad(log, "b", 1)));
  ASSERT_TRUE(w.pool->try_submit_sliced(broad(log, "c", 1, &finished)));
  const unsigned n = WorkerPool::kBurst + 2;
  for (unsigned i = 0; i < n; ++i) ASSERT_TRUE(w.pool->try_submit_sliced(broad(log, fmt::format("s{}.", i), 1), true));
  w.gate.set_value();
  finished.get_future().wait();
  w.pool->stop();
  // kBurst small ones, then b (new, waiting); the small ones again, another burst's worth; then c.
  std::vector<std::string> want;
  for (unsigned i = 0; i < WorkerPool::kBurst; ++i) want.push_back(fmt::format("s{}.0/2", i));
  want.push_back("b0/2");
  for (unsigned i = WorkerPool::kBurst; i < n; ++i) want.push_back(fmt::format("s{}.0/2", i));
  want.push_back("c0/2");
  EXPECT_EQ(log.entries, want);
}

TEST(ServeWorkerPool, WithoutSlicesTheFirstSliceIsNoLongerEither) {
  OneWorker w;
  w.gate.set_value();  // the gate job may already hold the worker: stop() would wait for it forever
  w.pool->stop();
  w.options.slice_ms = 0;
  WorkerPool pool(w.options, *w.live, w.cache, 16);
  Log log;
  std::promise<void> finished;
  ASSERT_TRUE(pool.try_submit_sliced(broad(log, "a", 2, &finished)));
  finished.get_future().wait();
  pool.stop();
  EXPECT_EQ(log.entries, (std::vector<std::string>{"a0/0", "a1/0"}));
}

TEST(ServeWorkerPool, PlainJobsRunInOrder) {
  test::TempDir dir;
  { ArchiveWriter(dir.path(), {}).commit(); }
  ServeOptions options;
  options.dir = dir.path();
  options.workers = 1;
  MemberCache cache(dir.path(), 1 << 20);
  LiveOptions live(options);
  WorkerPool pool(options, live, cache, 16);
  Log log;
  std::promise<void> done;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool.try_submit([&, i](WorkerContext&) { log.add(std::to_string(i)); }));
  ASSERT_TRUE(pool.try_submit([&](WorkerContext&) { done.set_value(); }));
  done.get_future().wait();
  EXPECT_EQ(log.entries, (std::vector<std::string>{"0", "1", "2"}));
}

TEST(ServeWorkerPool, AJobRunsUnderTheLimitsInForceWhenItWasSubmitted) {
  OneWorker w;
  Log log;
  std::promise<void> finished;
  const Filter no_limit;
  auto limit_in_force = [&](const char* job) {
    return [&, job, slice = 0](WorkerContext& c) mutable {
      log.add(fmt::format("{}{}:{}", job, slice, c.engine.effective_limit(no_limit)));
      if (++slice < 2) return false;
      if (std::string(job) == "b") finished.set_value();
      return true;
    };
  };
  ServeOptions next = w.options;
  next.limits.default_limit = 7;
  // a is queued under the defaults (500); the options change (a SIGHUP) before b and before a runs.
  ASSERT_TRUE(w.pool->try_submit_sliced(limit_in_force("a")));
  w.live->set(next);
  ASSERT_TRUE(w.pool->try_submit_sliced(limit_in_force("b")));
  ASSERT_TRUE(w.pool->try_submit([&](WorkerContext& c) { log.add(fmt::format("p:{}", c.engine.effective_limit(no_limit))); }));
  w.gate.set_value();
  finished.get_future().wait();
  w.pool->stop();
  EXPECT_EQ(log.entries, (std::vector<std::string>{"a0:500", "b0:7", "p:7", "a1:500", "b1:7"}));
}

}  // namespace
}  // namespace pb::serve
