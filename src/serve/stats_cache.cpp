#include "serve/stats_cache.hpp"

#include <fmt/format.h>

#include "archive/committed_files.hpp"
#include "archive/day.hpp"
#include "ops/stats.hpp"
#include "ops/stats_json.hpp"

namespace pb::serve {
namespace {

std::string day_json(std::optional<std::int64_t> days) {
  if (!days) return "null";
  const CivilDate d = civil_from_days(*days);
  return fmt::format("\"{:04}-{:02}-{:02}\"", d.year, d.month, d.day);
}

std::string days_json(const std::filesystem::path& dir) {
  ArchiveIndex index = open_archive_index(dir);
  std::string o = "[";
  for (const auto& f : committed_day_files(index)) {
    if (o.size() > 1) o += ',';
    o += fmt::format("{{\"day\":{},\"events\":{}}}", day_json(f.day), f.events);
  }
  return o + "]";
}

}  // namespace

std::string archive_stats_json(const std::filesystem::path& dir) {
  ArchiveStatsOptions opt;
  opt.scan = false;
  std::string o = stats_json(collect_archive_stats(dir, opt), 0);  // what `stats --json --no-scan --top 0` prints
  o.pop_back();                                                    // its closing brace: events per day follow
  return o + ",\"days\":" + days_json(dir) + "}";
}

std::string StatsCache::get() {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (json_.empty() || now - at_ >= ttl_) {
    json_ = archive_stats_json(dir_);
    at_ = now;
  }
  return json_;
}

}  // namespace pb::serve
