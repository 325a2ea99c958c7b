// proton-beam-daemon: archive live Nostr relays (docs/daemon.md). Options and configuration live in
// src/daemon/config*.cpp; the daemon itself in src/daemon/daemon.cpp.
#include <cstdio>

#include <fmt/format.h>

#include "daemon/config.hpp"
#include "daemon/daemon.hpp"

int main(int argc, char** argv) {
  using namespace pb::daemon;
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto env = process_env();
  auto loaded = load_config(args, env);
  if (loaded.exit_now) {
    fmt::print("{}", loaded.output);
    return loaded.exit_code;
  }
  if (!loaded.error.empty()) {
    fmt::print(stderr, "proton-beam-daemon: {}\n", loaded.error);
    return 2;
  }
  if (loaded.print_config) {
    fmt::print("{}", format_config(loaded.config));
    return 0;
  }
  return run_daemon(loaded.config, args, env);
}
