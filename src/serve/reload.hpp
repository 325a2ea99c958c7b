// What a SIGHUP may change: the options re-read (command line, then the --config file) against the ones in
// force. Options read once at start (the archive, the address, threads, caches, --history, …) keep their
// running values and are reported as needing a restart.
#pragma once

#include <string>
#include <vector>

#include "serve/serve_options.hpp"

namespace pb::serve {

struct ReloadPlan {
  ServeOptions next;                       // the running options with the reloadable ones replaced
  std::vector<std::string> applied;        // "max_limit 5000 -> 100", one per changed reloadable option
  std::vector<std::string> need_restart;   // "workers 2 -> 4 (needs a restart)", kept at the running value
};

ReloadPlan plan_reload(const ServeOptions& running, const ServeOptions& loaded);

}  // namespace pb::serve
