// Each subcommand registers its options on the shared CLI11 app and returns the function that runs it.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace pb::cli {

using CommandRunner = std::function<int()>;

CommandRunner register_convert(CLI::App& app);
CommandRunner register_merge(CLI::App& app);
CommandRunner register_index(CLI::App& app);
CommandRunner register_export(CLI::App& app);
CommandRunner register_stats(CLI::App& app);
CommandRunner register_verify(CLI::App& app);
CommandRunner register_s3(CLI::App& app);
CommandRunner register_serve(CLI::App& app);
CommandRunner register_compact(CLI::App& app);

}  // namespace pb::cli
