// The options in force, which SIGHUP may replace while serve runs (docs/serve.md, "Configuration file and
// SIGHUP"). Readers take a snapshot per request or query, so one request never sees two versions.
// Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <utility>

#include "serve/serve_options.hpp"

namespace pb::serve {

class LiveOptions {
 public:
  explicit LiveOptions(ServeOptions initial) : current_(std::make_shared<const ServeOptions>(std::move(initial))) {}

  std::shared_ptr<const ServeOptions> get() const {
    std::lock_guard lock(mu_);
    return current_;
  }
  void set(ServeOptions next) {
    auto fresh = std::make_shared<const ServeOptions>(std::move(next));
    std::lock_guard lock(mu_);
    current_ = std::move(fresh);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const ServeOptions> current_;
};

}  // namespace pb::serve
