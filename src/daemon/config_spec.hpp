// The option table behind DaemonConfig: name, kind, help, and how a value (as text) is applied.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon/config.hpp"

namespace pb::daemon {

enum class OptKind { text, flag, list };

struct OptionSpec {
  std::string key;          // TOML key (snake_case); CLI --key-with-dashes; env PROTON_BEAM_KEY
  OptKind kind = OptKind::text;
  std::string cli;          // CLI11 names, e.g. "-o,--output-dir" or "--discovery,!--no-discovery"
  std::string help;
  bool advanced = false;    // listed under "Advanced" in --help
  // Applies a value given as text (lists comma-separated); returns an error message naming the problem.
  std::function<std::optional<std::string>(DaemonConfig&, const std::string&)> apply;
  std::function<std::string(const DaemonConfig&)> show;  // TOML value text for --print-config
};

const std::vector<OptionSpec>& option_specs();

std::string env_name(const std::string& key);  // "batch_size" -> "PROTON_BEAM_BATCH_SIZE"

}  // namespace pb::daemon
