#include "serve/worker_pool.hpp"

#include <spdlog/spdlog.h>

#include "archive/committed_files.hpp"

namespace pb::serve {

WorkerPool::WorkerPool(const ServeOptions& options, MemberCache& cache, std::size_t queue_capacity)
    : options_(options), cache_(cache), capacity_(queue_capacity) {
  std::vector<ArchiveIndex> indexes;
  for (std::size_t i = 0; i < std::max<std::size_t>(1, options.workers); ++i)
    indexes.push_back(open_archive_index(options.dir));
  for (auto& index : indexes) threads_.emplace_back([this, ix = std::move(index)]() mutable { run(std::move(ix)); });
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::try_submit(Job job) {
  std::lock_guard lock(mu_);
  if (stopped_ || jobs_.size() >= capacity_) return false;
  jobs_.push_back(std::move(job));
  cv_.notify_one();
  return true;
}

void WorkerPool::requeue(Job job) {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  jobs_.push_back(std::move(job));
  cv_.notify_one();
}

namespace {
struct SlicedJob {
  std::shared_ptr<std::function<bool(WorkerContext&)>> step;
  std::function<void(Job)> requeue;
  void operator()(WorkerContext& w) const {
    if (!(*step)(w)) requeue(*this);
  }
};
}  // namespace

bool WorkerPool::try_submit_sliced(std::function<bool(WorkerContext&)> step) {
  return try_submit(SlicedJob{std::make_shared<std::function<bool(WorkerContext&)>>(std::move(step)),
                              [this](Job next) { requeue(std::move(next)); }});
}

std::size_t WorkerPool::queued() const {
  std::lock_guard lock(mu_);
  return jobs_.size();
}

void WorkerPool::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    jobs_.clear();
    cv_.notify_all();
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void WorkerPool::run(ArchiveIndex index) {
  QueryEngine engine(index, cache_, options_.limits);
  WorkerContext ctx{index, engine};
  while (true) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopped_ || !jobs_.empty(); });
      if (stopped_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
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
