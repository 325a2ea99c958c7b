// What the relay sessions and HTTP routes share: options, the worker pool, the member cache, counters,
// the rate limiter and the live tail. Owned by Server; everything here is thread-safe.
#pragma once

#include <memory>

#include "serve/deletion_targets.hpp"
#include "serve/live_options.hpp"
#include "serve/member_cache.hpp"
#include "serve/metrics.hpp"
#include "serve/rate_limiter.hpp"
#include "serve/serve_options.hpp"
#include "serve/subscription.hpp"
#include "serve/worker_pool.hpp"

namespace pb::serve {

class LiveTail;

struct ServerContext {
  const ServeOptions& options;  // as started: what SIGHUP cannot change
  const LiveOptions& live;      // in force now: limits, caps, NIP-11 text, CORS (take one snapshot per request)
  WorkerPool& pool;
  MemberCache& cache;
  Metrics& metrics;
  RateLimiter& limiter;
  LiveTail* tail = nullptr;  // null: no live tail (subscriptions end at EOSE)
  const DeletionTargets* deletions = nullptr;  // null: none (--history)
};

}  // namespace pb::serve
