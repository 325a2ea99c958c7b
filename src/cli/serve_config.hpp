// serve's options: the command line, then a TOML file (`--config FILE`; docs/serve.md, "Configuration file
// and SIGHUP"), read at start and again on SIGHUP. The command line wins over the file.
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <CLI/CLI.hpp>

#include "serve/serve_options.hpp"

namespace pb::cli {

struct ServeArgs {
  pb::serve::ServeOptions opt;
  std::string dir = "pb_data";
  std::string listen = "127.0.0.1:7447";
  std::string ready_file;
  std::string config;
};

// Adds serve's options to `cmd`, bound to `a`.
void add_serve_options(CLI::App& cmd, ServeArgs& a);

// The options given on a parsed command line: each one's name and its raw texts.
using GivenOptions = std::vector<std::pair<std::string, std::vector<std::string>>>;
GivenOptions given_options(const CLI::App& cmd);

// The options as `given`, then the file --config names for those not given; checked and completed (the
// listen address split, default_limit at most max_limit). An error names the option and where it came from.
std::variant<pb::serve::ServeOptions, std::string> load_serve_options(const GivenOptions& given);

}  // namespace pb::cli
