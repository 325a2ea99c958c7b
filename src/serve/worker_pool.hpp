// The query workers: a few threads, each with its own read-only ArchiveIndex and QueryEngine, taking jobs
// from a bounded queue. Sessions submit jobs and get their answers back through thread-safe sends.
//
// Scheduling (docs/serve.md, "Fair scheduling") is a multi-level feedback queue: a new job waits at
// level 0, and a sliced job that yields goes one level down; the lowest non-empty level runs first, in
// order of arrival. Slices grow with the level (first_slice_ms at level 0, doubling, up to slice_ms), so
// a cheap query (by id, one author's newest 20) finishes in its first slices and never waits behind
// the broad scans that have sunk to the bottom level. After kBurst picks in a row while a deeper level
// waits, the deepest level's oldest job runs, so broad queries keep going however many new ones arrive.
// A new job submitted as small (a REQ that can return only a few events: by id, an author's newest 20)
// waits in a queue above level 0 and starts ahead of the other new ones (a `#p` query's 500 events, a
// global scan), which wait for at most kBurst small ones in a row: under a full queue of new jobs, the
// small ones' latency is their own work, not the work queued before them. A small job that has not
// finished after kSmallSlices first-length slices (on a busy machine a 2 ms slice may get 1 ms of CPU)
// sinks to level 1 like any other.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "archive/index.hpp"
#include "serve/live_options.hpp"
#include "serve/member_cache.hpp"
#include "serve/query_engine.hpp"
#include "serve/serve_options.hpp"

namespace pb::serve {

struct WorkerContext {
  ArchiveIndex& index;
  QueryEngine& engine;
  std::chrono::milliseconds slice{0};  // how long this run of a sliced job may take before it yields
  unsigned level = 0;                  // the queue level it was taken from
};
using Job = std::function<void(WorkerContext&)>;

class WorkerPool {
 public:
  // Opens one read-only index per worker (throws when the archive cannot be opened). A job runs under the
  // query limits `live` held when it was submitted (all its slices: a SIGHUP does not change a running query).
  WorkerPool(const ServeOptions& options, const LiveOptions& live, MemberCache& cache, std::size_t queue_capacity,
             DeletionTargets* deletions = nullptr);
  ~WorkerPool();  // stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues a job; false when the queue is full or stopped (the caller answers "server busy").
  bool try_submit(Job job);
  // Queues a job that runs in slices: `step` is called on a worker until it returns true (it should return
  // false once WorkerContext::slice has passed); after each slice that returns false it waits one level
  // down (see above). The queue's capacity counts it once. false as for try_submit.
  // `small`: the job most likely ends in its first slice; it starts ahead of other new jobs (see above).
  bool try_submit_sliced(std::function<bool(WorkerContext&)> step, bool small = false);
  // Drops queued jobs, lets running ones finish, joins the threads.
  void stop();
  std::size_t queued() const;

  static constexpr unsigned kLevels = 4;
  static constexpr unsigned kBurst = 8;  // picks in a row from above before a waiting deepest-level job runs
  static constexpr unsigned kSmallSlices = 2;  // first slices a small job takes ahead of new broad ones

 private:
  bool submit(Job job, bool small);
  void run(ArchiveIndex index);
  // A sliced job's next slice, one level below `level` (or in the small jobs' queue again): no capacity
  // check (it was admitted already).
  void requeue(Job job, unsigned level, bool small);
  // The next job and the slice it gets; false once stopped. Called with mu_ held.
  bool next_job(std::unique_lock<std::mutex>& lock, Job& job, WorkerContext& ctx);
  std::size_t queued_locked() const;

  const ServeOptions& options_;
  const LiveOptions& live_;
  MemberCache& cache_;
  DeletionTargets* deletions_;
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::array<std::deque<Job>, kLevels> levels_;  // [0]: not started yet
  std::deque<Job> small_;                         // not started yet, submitted as small: above level 0
  unsigned streak_ = 0;        // picks from above while a deeper level waited
  unsigned small_streak_ = 0;  // small jobs picked while level 0 waited
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace pb::serve
