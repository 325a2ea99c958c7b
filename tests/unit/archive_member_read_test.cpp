// inflate_member_at: one member by its offset, and nothing (so the caller streams) whenever the member
// is damaged, cut short or not a whole number of records.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "archive/gzip_member.hpp"
#include "archive/member_read.hpp"
#include "archive/proto_codec.hpp"
#include "test_support.hpp"

namespace pb {
namespace {

std::string framed_records(std::size_t n, std::uint32_t seed, std::size_t len) {
  std::mt19937 rng(seed);
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    std::string r(len, '\0');
    for (char& c : r) c = static_cast<char>(rng());  // incompressible: the compressed member is ~n * len
    append_varint(out, r.size());
    out += r;
  }
  return out;
}

struct File {
  std::string bytes;
  std::vector<std::uint64_t> starts;
  void add(const std::string& payload) {
    starts.push_back(bytes.size());
    GzipMemberCompressor(6).compress({reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()}, bytes);
  }
  std::filesystem::path write(const std::filesystem::path& p) const {
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
};

TEST(MemberRead, EachMemberByItsOffsetIncludingOneBiggerThanTheFirstRead) {
  test::TempDir dir;
  const std::vector<std::string> payloads = {framed_records(100, 1, 300), framed_records(3000, 2, 300),
                                             framed_records(1, 3, 10), framed_records(500, 4, 40)};
  File f;
  for (const auto& p : payloads) f.add(p);
  ASSERT_GT(f.starts[2] - f.starts[1], 256u << 10);  // the second member needs a bigger read
  const auto path = f.write(dir.path() / "2024_01_01.pb.gz");
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    const auto got = inflate_member_at(path, f.starts[i]);
    ASSERT_TRUE(got) << i;
    EXPECT_EQ(*got, payloads[i]) << i;
  }
}

TEST(MemberRead, RecordsRunningIntoTheNextMemberAreLeftToTheStreamingReader) {
  test::TempDir dir;
  const std::string all = framed_records(50, 5, 100);
  File f;
  f.add(all.substr(0, all.size() / 2 + 7));  // cuts a record in two
  f.add(all.substr(all.size() / 2 + 7));
  const auto path = f.write(dir.path() / "2024_01_01.pb.gz");
  EXPECT_FALSE(inflate_member_at(path, f.starts[0]));
  EXPECT_FALSE(inflate_member_at(path, f.starts[1]));
}

TEST(MemberRead, DamagedOrTruncatedMembersGiveNothing) {
  test::TempDir dir;
  File f;
  f.add(framed_records(200, 6, 200));
  f.add(framed_records(10, 7, 20));
  File cut = f;
  cut.bytes.resize(f.starts[1] - 9);  // the first member's trailer is gone
  EXPECT_FALSE(inflate_member_at(cut.write(dir.path() / "cut.pb.gz"), 0));
  File flipped = f;
  flipped.bytes[f.starts[0] + 100] ^= 0x20;
  const auto path = flipped.write(dir.path() / "flip.pb.gz");
  EXPECT_FALSE(inflate_member_at(path, 0));
  EXPECT_TRUE(inflate_member_at(path, f.starts[1]));  // the intact member next to it still reads
  EXPECT_FALSE(inflate_member_at(path, 5));           // not a member start
  EXPECT_FALSE(inflate_member_at(path, flipped.bytes.size()));  // past the end
  EXPECT_THROW(inflate_member_at(dir.path() / "missing.pb.gz", 0), std::runtime_error);
}

// One inflater keeps its buffers and its guess of the next member's size from call to call (serve's cache
// misses): neither may leak into the next answer, whatever order the members come in.
TEST(MemberRead, OneInflaterAcrossMembersOfEverySizeAndDamage) {
  test::TempDir dir;
  const std::vector<std::string> payloads = {framed_records(3000, 2, 300), framed_records(1, 3, 10),
                                             framed_records(100, 1, 300), framed_records(2, 8, 5)};
  File f;
  for (const auto& p : payloads) f.add(p);
  const auto path = f.write(dir.path() / "2024_01_01.pb.gz");
  File flipped = f;
  flipped.bytes[f.starts[2] + 50] ^= 0x20;
  const auto damaged = flipped.write(dir.path() / "2024_01_02.pb.gz");
  MemberInflater inflater;
  for (const std::size_t i : {0, 1, 2, 3, 2, 0, 3, 1}) {
    const auto got = inflater.inflate(path, f.starts[i]);
    ASSERT_TRUE(got) << i;
    EXPECT_EQ(*got, payloads[i]) << i;
    EXPECT_FALSE(inflater.inflate(damaged, f.starts[2])) << "after " << i;
    EXPECT_THROW(inflater.inflate(dir.path() / "missing.pb.gz", 0), std::runtime_error);
  }
}

}  // namespace
}  // namespace pb
