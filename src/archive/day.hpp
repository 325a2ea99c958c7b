// UTC days and day-file names (YYYY_MM_DD.pb.gz).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pb {

struct CivilDate {
  std::int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// Days since 1970-01-01 of the UTC date holding `unix_seconds` (floor division).
constexpr std::int64_t day_number(std::int64_t unix_seconds) {
  return unix_seconds >= 0 ? unix_seconds / 86400 : -((-unix_seconds + 86399) / 86400);
}

CivilDate civil_from_days(std::int64_t days);
std::int64_t days_from_civil(const CivilDate& date);

// "YYYY_MM_DD.pb.gz" (the year has at least four digits, more after 9999).
std::string day_file_name(std::int64_t days);
// The day of a day-file name, or nullopt when `name` is not one.
std::optional<std::int64_t> parse_day_file_name(std::string_view name);

}  // namespace pb
