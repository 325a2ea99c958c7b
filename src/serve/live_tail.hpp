// The live tail: after EOSE a subscription receives the events committed later by any writer process.
// One thread polls the index (rows_after(cursor)) every tail_poll_ms and hands each new event to the open
// subscriptions it matches. A subscription joins with the seq its snapshot stopped at; rows between that
// seq and the tail's cursor are replayed to it alone first, so there is no gap and no duplicate.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "serve/member_cache.hpp"
#include "serve/metrics.hpp"
#include "serve/query_engine.hpp"
#include "serve/serve_options.hpp"
#include "serve/subscription.hpp"

namespace pb::serve {

class LiveTail {
 public:
  LiveTail(const ServeOptions& options, MemberCache& cache, Metrics& metrics, DeletionTargets* deletions = nullptr);
  ~LiveTail();  // stop()
  LiveTail(const LiveTail&) = delete;
  LiveTail& operator=(const LiveTail&) = delete;

  // The subscription saw every row up to start_seq; it gets each later matching row once. Thread-safe.
  void add(std::shared_ptr<Subscription> sub, std::int64_t start_seq);
  void stop();

 private:
  struct Entry {
    std::weak_ptr<Subscription> sub;
    std::int64_t start = 0;
  };
  void run();
  void join_pending(ArchiveIndex& index, QueryEngine& engine);
  void deliver(const IndexRow& row, std::vector<Entry>& to, QueryEngine& engine);

  const ServeOptions& options_;
  MemberCache& cache_;
  DeletionTargets* deletions_;
  Metrics& metrics_;
  ArchiveIndex index_;
  std::int64_t cursor_ = 0;  // every row up to it was delivered (tail thread only)
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::vector<Entry> pending_;  // guarded by mu_
  std::vector<Entry> active_;   // tail thread only
  std::thread thread_;
};

}  // namespace pb::serve
