// Which day files compaction should rewrite: the layout of a file from its index rows, the policy, and
// the finished days (compact.hpp).
#include "archive/compact.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

#include "archive/day.hpp"

namespace pb {

DayFileLayout day_file_layout(ArchiveIndex& index, const std::string& file_name) {
  const auto day = parse_day_file_name(file_name);
  const auto frow = day ? index.file(file_name) : std::nullopt;
  if (!frow) throw std::runtime_error(file_name + ": not a day file of this archive's index");
  DayFileLayout l;
  l.file = file_name;
  l.bytes = frow->committed_bytes;
  l.events = frow->events;
  std::unordered_set<std::uint64_t> offsets;
  // The events_created index narrows the scan to the day; rows of other files that day are skipped.
  index.for_each_row_created_between(*day * 86400, *day * 86400 + 86399, [&](const IndexRow& r) {
    if (r.file_name != file_name) return;
    ++l.rows;
    offsets.insert(r.member_offset);
  });
  l.members = offsets.size();
  return l;
}

bool needs_compaction(const DayFileLayout& l, const CompactPolicy& p, std::size_t member_bytes) {
  if (l.members < std::max<std::uint64_t>(2, p.min_members)) return false;
  const std::uint64_t divisor = std::max<std::uint64_t>(1, p.avg_member_divisor);
  // average below member_bytes / divisor, without rounding: bytes / members < member_bytes / divisor
  return l.bytes * divisor < static_cast<std::uint64_t>(member_bytes) * l.members;
}

std::vector<FileRow> finished_day_files(ArchiveIndex& index, std::int64_t grace_seconds, std::int64_t now_unix) {
  std::vector<std::pair<std::int64_t, FileRow>> found;
  for (FileRow& f : index.files()) {
    const auto day = parse_day_file_name(f.file_name);
    // The day's last second is day*86400 + 86399; it is over from (day + 1) * 86400 on.
    if (day && (*day + 1) * 86400 + grace_seconds <= now_unix) found.emplace_back(*day, std::move(f));
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<FileRow> out;
  for (auto& [day, f] : found) out.push_back(std::move(f));
  return out;
}

}  // namespace pb
