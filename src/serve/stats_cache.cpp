#include "serve/stats_cache.hpp"

#include <fmt/format.h>

#include "archive/committed_files.hpp"
#include "archive/day.hpp"
#include "ops/stats.hpp"

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
  const ArchiveStats s = collect_archive_stats(dir, opt);
  std::string o = "{";
  o += fmt::format("\"events\":{},\"day_files\":{},\"first_day\":{},\"last_day\":{},", s.events, s.day_files,
                   day_json(s.first_day), day_json(s.last_day));
  o += fmt::format("\"oldest_created_at\":{},\"newest_created_at\":{},",
                   s.created_at ? fmt::format("{}", s.created_at->first) : "null",
                   s.created_at ? fmt::format("{}", s.created_at->second) : "null");
  o += fmt::format("\"distinct_authors\":{},\"day_file_bytes\":{},\"committed_bytes\":{},\"index_bytes\":{},",
                   s.distinct_authors, s.day_file_bytes, s.committed_bytes, s.index_bytes);
  o += fmt::format("\"unindexed_day_files\":{},\"scanned\":false,\"distinct_kinds\":{},\"kinds\":[",
                   s.unindexed_day_files, s.kinds.size());
  for (std::size_t i = 0; i < s.kinds.size(); ++i)
    o += fmt::format("{}{{\"kind\":{},\"events\":{}}}", i ? "," : "", s.kinds[i].kind, s.kinds[i].events);
  o += "],\"days\":" + days_json(dir) + "}";
  return o;
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
