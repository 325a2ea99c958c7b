#include "daemon/daemon_log.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "archive/run_log.hpp"

namespace pb::daemon {

DaemonLog::DaemonLog(const std::filesystem::path& dir, bool verbose)
    : file_(open_run_log(dir, "daemon")), verbose_(verbose) {
  file_->flush_on(spdlog::level::trace);  // operators and tests read it while we run
}

void DaemonLog::write(spdlog::level::level_enum level, const std::string& msg) {
  std::lock_guard lock(mu_);  // the run log's sink is single-threaded
  file_->log(level, msg);
  if (verbose_ || level >= spdlog::level::err) fmt::print(stderr, "proton-beam-daemon: {}\n", msg);
}

void DaemonLog::info(const std::string& msg) { write(spdlog::level::info, msg); }
void DaemonLog::warn(const std::string& msg) { write(spdlog::level::warn, msg); }
void DaemonLog::error(const std::string& msg) { write(spdlog::level::err, msg); }

void DaemonLog::reject(const std::string& relay, std::string_view category, std::string_view id_prefix,
                       std::string_view message) {
  write(spdlog::level::warn, fmt::format("reject relay={} category={} id={} {}", relay, category,
                                         id_prefix.empty() ? "-" : id_prefix, message));
}

}  // namespace pb::daemon
