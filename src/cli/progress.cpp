#include "cli/progress.hpp"

#include <cstdio>

#include <fmt/format.h>

namespace pb::cli {

void ProgressLine::show(const std::string& text) {
  if (!enabled_) return;
  const std::size_t pad = last_width_ > text.size() ? last_width_ - text.size() : 0;
  std::fputs(fmt::format("\r{}{:{}}", text, "", pad).c_str(), stderr);
  std::fflush(stderr);
  last_width_ = text.size();
}

void ProgressLine::finish() {
  if (!enabled_ || last_width_ == 0) return;
  std::fputs("\n", stderr);
  std::fflush(stderr);
  last_width_ = 0;
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} {}", b, units[u]) : fmt::format("{:.1f} {}", b, units[u]);
}

std::string human_duration(double s) {
  if (s < 60) return fmt::format("{:.1f}s", s);
  const auto total = static_cast<long long>(s);
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
}

}  // namespace pb::cli
