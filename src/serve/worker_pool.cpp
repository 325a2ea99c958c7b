#include "serve/worker_pool.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "archive/committed_files.hpp"
#include "base/thread_name.hpp"

namespace pb::serve {

WorkerPool::WorkerPool(const ServeOptions& options, const LiveOptions& live, MemberCache& cache,
                       std::size_t queue_capacity, DeletionTargets* deletions)
    : options_(options), live_(live), cache_(cache), deletions_(deletions), capacity_(queue_capacity) {
  std::vector<ArchiveIndex> indexes;
  for (std::size_t i = 0; i < std::max<std::size_t>(1, options.workers); ++i) {
    indexes.push_back(open_archive_index(options.dir));
    if (options.index_mmap_mib == 0) continue;
    const std::uint64_t granted = indexes.back().map_file(options.index_mmap_mib << 20);
    if (i == 0) spdlog::info("serve: query threads read index.db through a map of up to {} MiB", granted >> 20);
  }
  for (auto& index : indexes) threads_.emplace_back([this, ix = std::move(index)]() mutable { run(std::move(ix)); });
}

WorkerPool::~WorkerPool() { stop(); }

std::size_t WorkerPool::queued_locked() const {
  std::size_t n = small_.size();
  for (const auto& level : levels_) n += level.size();
  return n;
}

bool WorkerPool::try_submit(Job job) {
  return submit(
      [limits = live_.get()->limits, job = std::move(job)](WorkerContext& w) {
        w.engine.set_limits(limits);
        job(w);
      },
      false);
}

bool WorkerPool::submit(Job job, bool small) {
  std::lock_guard lock(mu_);
  if (stopped_ || queued_locked() >= capacity_) return false;
  (small ? small_ : levels_[0]).push_back(std::move(job));
  cv_.notify_one();
  return true;
}

void WorkerPool::requeue(Job job, unsigned level, bool small) {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  (small ? small_ : levels_[std::min(level + 1, kLevels - 1)]).push_back(std::move(job));
  cv_.notify_one();
}

namespace {
struct SlicedJob {
  std::shared_ptr<std::function<bool(WorkerContext&)>> step;
  std::function<void(Job, unsigned, bool)> requeue;
  unsigned small_left = 0;  // further slices it waits for in the small jobs' queue
  QueryLimits limits;       // as when it was submitted
  void operator()(WorkerContext& w) const {
    w.engine.set_limits(limits);
    if ((*step)(w)) return;
    SlicedJob next = *this;
    const bool small = next.small_left > 0;
    if (small) --next.small_left;
    requeue(std::move(next), w.level, small);
  }
};
}  // namespace

bool WorkerPool::try_submit_sliced(std::function<bool(WorkerContext&)> step, bool small) {
  return submit(SlicedJob{std::make_shared<std::function<bool(WorkerContext&)>>(std::move(step)),
                          [this](Job next, unsigned level, bool again_small) {
                            requeue(std::move(next), level, again_small);
                          },
                          small ? kSmallSlices - 1 : 0, live_.get()->limits},
                small);
}

std::size_t WorkerPool::queued() const {
  std::lock_guard lock(mu_);
  return queued_locked();
}

void WorkerPool::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& level : levels_) level.clear();
    small_.clear();
    cv_.notify_all();
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

bool WorkerPool::next_job(std::unique_lock<std::mutex>& lock, Job& job, WorkerContext& ctx) {
  cv_.wait(lock, [&] { return stopped_ || queued_locked() > 0; });
  if (stopped_) return false;
  // Level -1 is the small new jobs' queue.
  const auto queue = [this](int level) -> std::deque<Job>& { return level < 0 ? small_ : levels_[level]; };
  int top = -1, bottom = kLevels - 1;
  while (queue(top).empty()) ++top;
  while (queue(bottom).empty()) --bottom;
  const bool starved = bottom > top && streak_ >= kBurst;
  int level = starved ? bottom : top;
  streak_ = bottom > top && !starved ? streak_ + 1 : 0;
  if (level < 0 && !levels_[0].empty() && small_streak_ >= kBurst) level = 0;
  small_streak_ = level < 0 && !levels_[0].empty() ? small_streak_ + 1 : 0;
  job = std::move(queue(level).front());
  queue(level).pop_front();
  ctx.level = static_cast<unsigned>(std::max(level, 0));
  const std::uint64_t ms = std::min<std::uint64_t>(std::uint64_t(options_.first_slice_ms) << ctx.level, options_.slice_ms);
  ctx.slice = std::chrono::milliseconds(ms);
  return true;
}

void WorkerPool::run(ArchiveIndex index) {
  name_this_thread("pb-query");
  QueryEngine engine(index, cache_, options_.limits, deletions_);
  WorkerContext ctx{index, engine};
  while (true) {
    Job job;
    {
      std::unique_lock lock(mu_);
      if (!next_job(lock, job, ctx)) return;
    }
    try {
      engine.reset_counters();
      job(ctx);
    } catch (const std::exception& e) {
      spdlog::warn("serve: query job failed: {}", e.what());
    }
  }
}

}  // namespace pb::serve
