// The query workers: a few threads, each with its own read-only ArchiveIndex and QueryEngine, taking jobs
// from one bounded queue. Sessions submit jobs and get their answers back through thread-safe sends.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "archive/index.hpp"
#include "serve/member_cache.hpp"
#include "serve/query_engine.hpp"
#include "serve/serve_options.hpp"

namespace pb::serve {

struct WorkerContext {
  ArchiveIndex& index;
  QueryEngine& engine;
};
using Job = std::function<void(WorkerContext&)>;

class WorkerPool {
 public:
  // Opens one read-only index per worker (throws when the archive cannot be opened).
  WorkerPool(const ServeOptions& options, MemberCache& cache, std::size_t queue_capacity);
  ~WorkerPool();  // stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues a job; false when the queue is full or stopped (the caller answers "server busy").
  bool try_submit(Job job);
  // Queues a job that runs in slices: `step` is called on a worker until it returns true, and goes to the
  // back of the queue after each slice that returns false, so queued jobs run in between (fair
  // scheduling). The queue's capacity counts it once. false as for try_submit.
  bool try_submit_sliced(std::function<bool(WorkerContext&)> step);
  // Drops queued jobs, lets running ones finish, joins the threads.
  void stop();
  std::size_t queued() const;

 private:
  void run(ArchiveIndex index);
  void requeue(Job job);  // a sliced job's next slice: no capacity check (it was admitted already)

  const ServeOptions& options_;
  MemberCache& cache_;
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace pb::serve
