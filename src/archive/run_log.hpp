// proton-beam.log: the archive's own log, one line per event, appended by every run that writes.
// Format: "<UTC time> <level> <message>", e.g.
//   2026-11-26T20:44:01.123Z warning reject input=dump.jsonl line=12 category=invalid_tag_value id=859501854a0e2b63 tags[23][2] must be a string
#pragma once

#include <filesystem>
#include <memory>

#include <spdlog/logger.h>

namespace pb {

inline constexpr const char* kLogFileName = "proton-beam.log";

// A logger appending to <dir>/proton-beam.log. Throws std::runtime_error when it cannot be opened.
std::shared_ptr<spdlog::logger> open_run_log(const std::filesystem::path& dir, const std::string& name);

}  // namespace pb
