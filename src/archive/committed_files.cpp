#include "archive/committed_files.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "archive/day.hpp"
#include "archive/day_file_reader.hpp"

namespace pb {

ArchiveIndex open_archive_index(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw std::runtime_error("archive " + dir.string() + ": no such directory");
  if (!std::filesystem::exists(dir / "index.db", ec))
    throw std::runtime_error("archive " + dir.string() + ": no index.db (not a Proton Beam archive?)");
  return ArchiveIndex::open(dir / "index.db", ArchiveIndex::Mode::read_only);
}

std::vector<CommittedDayFile> committed_day_files(ArchiveIndex& index) {
  std::vector<CommittedDayFile> out;
  for (auto& f : index.files()) {
    const auto day = parse_day_file_name(f.file_name);
    if (!day) continue;
    out.push_back({std::move(f.file_name), *day, f.committed_bytes, f.events});
  }
  // By day, not by name: names of years past 9999 have more digits and would sort wrongly.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.day < b.day; });
  return out;
}

std::optional<std::string> read_committed_records(
    const std::filesystem::path& path, std::uint64_t committed_bytes,
    const std::function<bool(std::string_view, std::uint64_t)>& on_record) {
  if (committed_bytes == 0) return std::nullopt;
  std::optional<DayFileReader> reader;
  try {
    reader.emplace(path);
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
  // A member's records are held back until the reader has passed the member's end, where zlib checks
  // its CRC: a damaged member returns garbage before the damage is detected, and none of it may leak.
  std::string held;
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // (offset in held, length) per record
  std::uint64_t held_member = 0;
  auto release = [&] {
    for (const auto& [at, len] : spans)
      if (!on_record(std::string_view(held).substr(at, len), held_member)) return false;
    held.clear();
    spans.clear();
    return true;
  };
  while (const auto rec = reader->next()) {
    const std::uint64_t member = reader->record_member_offset();
    if (member != held_member && !spans.empty() && !release()) return std::nullopt;
    if (member >= committed_bytes) return std::nullopt;  // a writer's uncommitted tail
    held_member = member;
    spans.emplace_back(held.size(), rec->size());
    held.append(*rec);
  }
  const auto& d = reader->damage();
  const bool held_verified = !d || reader->clean_end_offset() > held_member;
  if (!spans.empty() && held_verified && !release()) return std::nullopt;
  const auto name = path.filename().string();
  if (d && d->offset < committed_bytes) {
    std::string msg = name + " damaged at byte " + std::to_string(d->offset) + ": " + d->message;
    if (!spans.empty() && !held_verified)
      msg += " (" + std::to_string(spans.size()) + " records read from the damaged member at offset " +
             std::to_string(held_member) + " withheld)";
    return msg;
  }
  if (!d && reader->clean_end_offset() < committed_bytes)
    return name + " is shorter (" + std::to_string(reader->clean_end_offset()) + " bytes) than its committed length " +
           std::to_string(committed_bytes);
  return std::nullopt;
}

}  // namespace pb
