#include "archive/run_log.hpp"

#include <stdexcept>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>

namespace pb {

std::shared_ptr<spdlog::logger> open_run_log(const std::filesystem::path& dir, const std::string& name) {
  try {
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_st>((dir / kLogFileName).string(), false);
    auto logger = std::make_shared<spdlog::logger>(name, std::move(sink));
    logger->set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %l %v",
                                                                       spdlog::pattern_time_type::utc));
    logger->set_level(spdlog::level::trace);
    logger->flush_on(spdlog::level::err);
    return logger;
  } catch (const spdlog::spdlog_ex& e) {
    throw std::runtime_error(std::string("cannot open the log: ") + e.what());
  }
}

}  // namespace pb
