#include "clickhouse/input_files.hpp"

#include <glob.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "archive/day.hpp"

namespace pb::ch {

namespace {

// glob(3) results, freed with globfree on every path out.
class GlobResult {
 public:
  explicit GlobResult(const std::string& pattern) { ok_ = ::glob(pattern.c_str(), 0, nullptr, &g_) == 0; }
  ~GlobResult() { globfree(&g_); }
  GlobResult(const GlobResult&) = delete;
  GlobResult& operator=(const GlobResult&) = delete;
  std::vector<std::string> paths() const {
    std::vector<std::string> out;
    if (ok_)
      for (std::size_t i = 0; i < g_.gl_pathc; ++i) out.emplace_back(g_.gl_pathv[i]);
    return out;  // glob sorts its matches
  }

 private:
  glob_t g_{};
  bool ok_ = false;
};

std::vector<std::string> glob_paths(const std::string& pattern) { return GlobResult(pattern).paths(); }

std::vector<std::filesystem::path> day_files_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file() && parse_day_file_name(e.path().filename().string())) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

ExpandedInputs expand_inputs(const std::vector<std::string>& values) {
  ExpandedInputs out;
  std::set<std::filesystem::path> seen;
  auto add_file = [&](const std::filesystem::path& p) {
    std::filesystem::path abs = std::filesystem::absolute(p).lexically_normal();
    if (seen.insert(abs).second) out.files.push_back(std::move(abs));
  };
  for (const std::string& value : values) {
    std::vector<std::string> matches;
    if (std::filesystem::exists(value)) {
      matches.push_back(value);
    } else if (value.find_first_of("*?[") != std::string::npos) {
      matches = glob_paths(value);
    }
    if (matches.empty()) throw std::runtime_error(fmt::format("input not found: {}", value));
    for (const std::string& m : matches) {
      if (std::filesystem::is_directory(m)) {
        out.archive_dirs.push_back(std::filesystem::absolute(m).lexically_normal());
        for (const auto& f : day_files_in(m)) add_file(f);
      } else {
        add_file(m);
      }
    }
  }
  return out;
}

std::vector<ArchiveLock> lock_archives(const std::vector<std::filesystem::path>& dirs) {
  std::vector<ArchiveLock> locks;
  for (const auto& d : dirs) locks.push_back(ArchiveLock::acquire(d, ArchiveLock::Kind::shared));
  return locks;
}

}  // namespace pb::ch
