// UTC day arithmetic and day-file names.
#include <gtest/gtest.h>

#include <ctime>

#include "archive/day.hpp"

namespace pb {
namespace {

TEST(Day, FileNamesMatchGmtimeOverALongRange) {
  // Every ~13 hours from 1970 to 2100, compared with the C library's gmtime.
  for (std::int64_t t = 0; t < 4102444800; t += 47123) {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
    char expect[64];
    std::snprintf(expect, sizeof expect, "%04d_%02d_%02d.pb.gz", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    ASSERT_EQ(day_file_name(day_number(t)), expect) << t;
  }
}

TEST(Day, BoundariesAndLeapDays) {
  EXPECT_EQ(day_file_name(day_number(0)), "1970_01_01.pb.gz");
  EXPECT_EQ(day_file_name(day_number(86399)), "1970_01_01.pb.gz");
  EXPECT_EQ(day_file_name(day_number(86400)), "1970_01_02.pb.gz");
  EXPECT_EQ(day_file_name(day_number(951782400)), "2000_02_29.pb.gz");
  EXPECT_EQ(day_file_name(day_number(1758991030)), "2025_09_27.pb.gz");
  // created_at has no upper bound: years past 9999 get more digits, and still parse back.
  const std::int64_t far = day_number(std::numeric_limits<std::int64_t>::max());
  const std::string name = day_file_name(far);
  EXPECT_EQ(name, "292277026596_12_04.pb.gz");
  EXPECT_EQ(parse_day_file_name(name), far);
}

TEST(Day, ParseRoundTripsAndRejectsNonDayNames) {
  for (std::int64_t d = -1000; d < 200000; d += 37) {
    ASSERT_EQ(parse_day_file_name(day_file_name(d)), d >= -719162 ? std::optional<std::int64_t>(d) : std::nullopt) << d;
  }
  for (const char* bad : {"2023_02_30.pb.gz", "2023_13_01.pb.gz", "2023_1_01.pb.gz", "02023_01_01.pb.gz", "2023_01_01.pb",
                          "index.db", "abcd_01_01.pb.gz", "2023-01-01.pb.gz", ".pb.gz"})
    EXPECT_FALSE(parse_day_file_name(bad).has_value()) << bad;
}

}  // namespace
}  // namespace pb
