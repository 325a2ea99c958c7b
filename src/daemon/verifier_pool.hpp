// The worker threads: a copy naming an id verified from an earlier frame is dropped unparsed; otherwise
// parse the event, own filter, id check, dedup (verified ids of this process and the index) BEFORE the
// signature, BIP-340, encoding. Only verified ids enter the dedup set, so a forged copy never keeps the
// genuine event out.
#pragma once

#include <filesystem>
#include <thread>
#include <vector>

#include "daemon/daemon_log.hpp"
#include "daemon/pipeline_types.hpp"
#include "daemon/work_queue.hpp"
#include "ingest/seen_ids.hpp"
#include "nostr/filter.hpp"
#include "nostr/validate.hpp"

namespace pb::daemon {

struct VerifierSetup {
  std::filesystem::path index_path;
  Filter filter;                  // our own subscription filter (since/until/limit unset)
  ValidationOptions validation;
  unsigned threads = 1;
  bool collect_hints = false;     // discovery is on: hand the event's relay hints to the writer
};

class VerifierPool {
 public:
  VerifierPool(VerifierSetup setup, WorkQueue<InboundEvent>& in, WorkQueue<CheckedEvent>& out, SeenIds& seen,
               DaemonLog& log);
  ~VerifierPool();  // join()
  // Returns once `in` is closed and drained and every result was pushed.
  void join();

 private:
  void run();
  VerifierSetup setup_;
  WorkQueue<InboundEvent>& in_;
  WorkQueue<CheckedEvent>& out_;
  SeenIds& seen_;
  DaemonLog& log_;
  std::vector<std::thread> threads_;
};

}  // namespace pb::daemon
