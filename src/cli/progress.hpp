// A one-line `\r` status on stderr for long runs (no C++ progress-bar library exists in Debian).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace pb::cli {

class ProgressLine {
 public:
  // Shown only when `enabled` (callers pass: stderr is a TTY, or --progress, and not --no-progress).
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  ~ProgressLine() { finish(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  bool enabled() const { return enabled_; }
  // Replaces the status line with `text` (padded so a shorter line erases a longer one).
  void show(const std::string& text);
  // Ends the status line so later output starts on a fresh line.
  void finish();

 private:
  bool enabled_;
  std::size_t last_width_ = 0;
};

std::string human_bytes(double bytes);
std::string human_duration(double seconds);

}  // namespace pb::cli
