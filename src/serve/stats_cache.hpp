// GET /api/v1/stats: collect_archive_stats (index figures, no day-file scan) as JSON, recomputed at most
// every `ttl` (the archive may grow under a running writer). Thread-safe.
#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>

namespace pb::serve {

class StatsCache {
 public:
  StatsCache(std::filesystem::path dir, std::chrono::seconds ttl) : dir_(std::move(dir)), ttl_(ttl) {}
  // The JSON document (computed by the calling thread when stale). Throws when the archive cannot be read.
  std::string get();

 private:
  std::filesystem::path dir_;
  std::chrono::seconds ttl_;
  std::mutex mu_;
  std::string json_;
  std::chrono::steady_clock::time_point at_;
};

// The JSON of `proton-beam stats --json --no-scan` for the archive in dir (plus events per day).
std::string archive_stats_json(const std::filesystem::path& dir);

}  // namespace pb::serve
