// proton-beam-daemon's body: opens the archive, starts the pipeline (io thread with the relays and the
// HTTP endpoints -> verifier workers -> the single writer), runs until SIGTERM/SIGINT, then stops
// reading, commits everything received and exits. SIGHUP reloads the relay list from the config file.
#pragma once

#include <string>
#include <vector>

#include "daemon/config.hpp"

namespace pb::daemon {

// args/env: how the configuration was loaded (SIGHUP loads it again the same way). Returns the exit code.
int run_daemon(const DaemonConfig& config, const std::vector<std::string>& args, const EnvLookup& env);

}  // namespace pb::daemon
