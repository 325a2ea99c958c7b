#include "archive/day.hpp"

#include <charconv>

#include <fmt/format.h>

namespace pb {

// Civil-calendar conversions on 64-bit day counts (proleptic Gregorian; the classic era/day-of-era
// method). std::chrono::year stops at 32767, and created_at has no upper bound in NIP-01.
CivilDate civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;                                   // [0, 146096]
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);            // [0, 365]
  const std::int64_t mp = (5 * doy + 2) / 153;                                  // [0, 11]
  const unsigned d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const unsigned m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return {y, m, d};
}

std::int64_t days_from_civil(const CivilDate& date) {
  const std::int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t m = date.month;
  const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + date.day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string day_file_name(std::int64_t days) {
  const CivilDate d = civil_from_days(days);
  return fmt::format("{:04}_{:02}_{:02}.pb.gz", d.year, d.month, d.day);
}

std::optional<std::int64_t> parse_day_file_name(std::string_view name) {
  constexpr std::string_view suffix = ".pb.gz";
  if (name.size() < 4 + 6 + suffix.size() || !name.ends_with(suffix)) return std::nullopt;
  name.remove_suffix(suffix.size());
  // YYYY..._MM_DD: the year is everything before the last two "_NN" groups.
  if (name.size() < 10 || name[name.size() - 6] != '_' || name[name.size() - 3] != '_') return std::nullopt;
  const std::string_view ys = name.substr(0, name.size() - 6);
  const std::string_view ms = name.substr(name.size() - 5, 2);
  const std::string_view ds = name.substr(name.size() - 2, 2);
  auto parse = [](std::string_view s, std::int64_t& v) {
    if (s.empty()) return false;
    for (char c : s)
      if (c < '0' || c > '9') return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc{} && p == s.data() + s.size();
  };
  std::int64_t y = 0, m = 0, d = 0;
  if (ys.size() < 4 || !parse(ys, y) || !parse(ms, m) || !parse(ds, d)) return std::nullopt;
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  const CivilDate date{y, static_cast<unsigned>(m), static_cast<unsigned>(d)};
  const std::int64_t days = days_from_civil(date);
  // Reject dates that do not exist (e.g. 2023_02_30) and non-canonical spellings (leading zeros).
  if (day_file_name(days) != std::string(name) + std::string(suffix)) return std::nullopt;
  return days;
}

}  // namespace pb
