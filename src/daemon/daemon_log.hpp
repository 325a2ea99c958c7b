// The daemon's log: <archive>/proton-beam.log (archive/run_log.hpp) shared by every thread, plus stderr
// when verbose. Rejections carry relay URL, category and id prefix.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/logger.h>

namespace pb::daemon {

class DaemonLog {
 public:
  DaemonLog(const std::filesystem::path& dir, bool verbose);
  void info(const std::string& msg);
  void warn(const std::string& msg);
  void error(const std::string& msg);
  // "reject relay=URL category=C id=PREFIX message"
  void reject(const std::string& relay, std::string_view category, std::string_view id_prefix, std::string_view message);

 private:
  void write(spdlog::level::level_enum level, const std::string& msg);
  std::mutex mu_;
  std::shared_ptr<spdlog::logger> file_;
  bool verbose_;
};

}  // namespace pb::daemon
