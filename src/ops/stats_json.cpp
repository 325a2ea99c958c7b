#include "ops/stats_json.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "archive/day.hpp"

namespace pb {
namespace {

std::string date_text(std::int64_t days) {
  const CivilDate d = civil_from_days(days);
  return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

}  // namespace

std::string stats_json(const ArchiveStats& s, std::size_t top) {
  auto opt_day = [](const std::optional<std::int64_t>& d) { return d ? fmt::format("\"{}\"", date_text(*d)) : std::string("null"); };
  auto scanned = [&](auto v) { return s.scanned ? fmt::format("{}", v) : std::string("null"); };
  std::string o = "{";
  o += fmt::format("\"events\":{},\"day_files\":{},\"first_day\":{},\"last_day\":{},", s.events, s.day_files,
                   opt_day(s.first_day), opt_day(s.last_day));
  o += fmt::format("\"oldest_created_at\":{},\"newest_created_at\":{},",
                   s.created_at ? fmt::format("{}", s.created_at->first) : "null",
                   s.created_at ? fmt::format("{}", s.created_at->second) : "null");
  o += fmt::format("\"distinct_authors\":{},\"day_file_bytes\":{},\"committed_bytes\":{},\"index_bytes\":{},",
                   s.distinct_authors, s.day_file_bytes, s.committed_bytes, s.index_bytes);
  o += fmt::format("\"unindexed_day_files\":{},\"scanned\":{},\"scanned_events\":{},\"json_bytes\":{},",
                   s.unindexed_day_files, s.scanned, scanned(s.scanned_events), scanned(s.json_bytes));
  o += fmt::format("\"protobuf_bytes\":{},\"compression_ratio\":{},\"problems\":{},\"distinct_kinds\":{},\"kinds\":[",
                   scanned(s.proto_bytes), s.scanned ? fmt::format("{:.4f}", s.compression_ratio()) : "null",
                   s.problem_count, s.kinds.size());
  const std::size_t shown = top == 0 ? s.kinds.size() : std::min(top, s.kinds.size());
  for (std::size_t i = 0; i < shown; ++i)
    o += fmt::format("{}{{\"kind\":{},\"events\":{}}}", i ? "," : "", s.kinds[i].kind, s.kinds[i].events);
  o += "]}";
  return o;
}

}  // namespace pb
