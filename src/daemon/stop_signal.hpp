// The main thread waits here until a signal handler (on the io thread) or a failing stage asks to stop.
#pragma once

#include <condition_variable>
#include <mutex>

namespace pb::daemon {

class StopSignal {
 public:
  // Returns false when a stop had already been requested (a second request).
  bool request(bool failure) {
    std::lock_guard lock(mu_);
    failed_ = failed_ || failure;
    const bool first = !requested_;
    requested_ = true;
    cv_.notify_all();
    return first;
  }
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return requested_; });
  }
  bool failed() {
    std::lock_guard lock(mu_);
    return failed_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false, failed_ = false;
};

}  // namespace pb::daemon
