// Archive I/O: libdeflate gzip members and the streaming day-file reader, including damaged input.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef __SANITIZE_ADDRESS__
// ASan's allocator bypasses glibc's statistics; GCC 12 ships no header for this runtime entry point.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#else
#include <malloc.h>
#endif

#include "archive/day_file_reader.hpp"
#include "archive/gzip_member.hpp"
#include "archive/proto_codec.hpp"
#include "test_support.hpp"

namespace pb {
namespace {

using Records = std::vector<std::string>;

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string frame(const Records& records, std::size_t begin, std::size_t end) {
  std::string out;
  for (std::size_t i = begin; i < end; ++i) {
    append_varint(out, records[i].size());
    out += records[i];
  }
  return out;
}

std::string frame(const Records& records) { return frame(records, 0, records.size()); }

// Records of mixed shape: empty, short, >127 bytes (two-byte varints), text and binary.
Records make_records(std::size_t n, std::uint32_t seed, std::size_t max_len = 400) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> len_dist(0, max_len);
  std::uniform_int_distribution<int> byte_dist(0, 255);
  Records out;
  for (std::size_t i = 0; i < n; ++i) {
    std::string r = "rec#" + std::to_string(i) + ":";
    const std::size_t len = (i % 17 == 5) ? 0 : len_dist(rng);
    const bool binary = (i % 3 == 0);
    while (r.size() < len) {
      r.push_back(binary ? static_cast<char>(byte_dist(rng)) : static_cast<char>('a' + byte_dist(rng) % 26));
    }
    if (len == 0) r.clear();
    out.push_back(std::move(r));
  }
  return out;
}

// A day file built from decompressed payload pieces, one gzip member per piece, with enough
// bookkeeping to say which records each reader state must have produced.
struct Layout {
  std::string file;
  std::vector<std::uint64_t> member_start;   // compressed offset of member k
  std::vector<std::uint64_t> member_end;     // compressed offset just past member k
  std::vector<std::uint64_t> payload_end;    // decompressed stream offset just past member k's payload
  std::vector<std::uint64_t> record_end;     // decompressed stream offset just past record i
  std::vector<std::uint64_t> record_member;  // compressed offset of the member record i starts in
};

Layout build(const Records& records, const std::vector<std::string>& pieces, int level = 6) {
  Layout l;
  GzipMemberCompressor gz(level);
  std::uint64_t stream = 0;
  for (const auto& piece : pieces) {
    l.member_start.push_back(l.file.size());
    gz.compress(bytes_of(piece), l.file);
    l.member_end.push_back(l.file.size());
    stream += piece.size();
    l.payload_end.push_back(stream);
  }
  std::uint64_t pos = 0;
  for (const auto& r : records) {
    std::string header;
    append_varint(header, r.size());
    // The member holding the record's first byte: the first one whose payload ends after it (empty
    // members end where they start, so they are skipped).
    const auto k = std::upper_bound(l.payload_end.begin(), l.payload_end.end(), pos) - l.payload_end.begin();
    l.record_member.push_back(l.member_start[static_cast<std::size_t>(k)]);
    pos += header.size() + r.size();
    l.record_end.push_back(pos);
  }
  return l;
}

// Members holding whole records, `per_member` records each.
Layout build_aligned(const Records& records, std::size_t per_member, int level = 6) {
  std::vector<std::string> pieces;
  for (std::size_t i = 0; i < records.size(); i += per_member) {
    pieces.push_back(frame(records, i, std::min(records.size(), i + per_member)));
  }
  return build(records, pieces, level);
}

// The framed stream cut into pieces at the given decompressed offsets (mid-record cuts allowed).
Layout build_split(const Records& records, std::vector<std::size_t> cuts, int level = 6) {
  const std::string stream = frame(records);
  std::sort(cuts.begin(), cuts.end());
  std::vector<std::string> pieces;
  std::size_t prev = 0;
  for (std::size_t c : cuts) {
    pieces.push_back(stream.substr(prev, c - prev));
    prev = c;
  }
  pieces.push_back(stream.substr(prev));
  return build(records, pieces, level);
}

void write_file(const std::filesystem::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good());
}

struct ReadResult {
  Records records;
  std::vector<std::uint64_t> member_offsets;
  std::optional<ReadDamage> damage;
  std::uint64_t clean_end = 0;
  std::uint64_t records_read = 0;
};

ReadResult read_all(const std::filesystem::path& p, std::uint64_t start = 0) {
  ReadResult r;
  DayFileReader reader(p, start);
  while (auto rec = reader.next()) {
    r.records.emplace_back(*rec);
    r.member_offsets.push_back(reader.record_member_offset());
  }
  // The end is sticky: nothing more comes out after the end or after damage.
  EXPECT_FALSE(reader.next().has_value());
  r.damage = reader.damage();
  r.clean_end = reader.clean_end_offset();
  r.records_read = reader.records_read();
  return r;
}

std::size_t complete_records_within(const Layout& l, std::uint64_t stream_bytes) {
  return static_cast<std::size_t>(std::upper_bound(l.record_end.begin(), l.record_end.end(), stream_bytes) -
                                  l.record_end.begin());
}

// Multi-member-aware gunzip with zlib, independent of DayFileReader.
std::string gunzip(const std::string& gz) {
  z_stream s{};
  EXPECT_EQ(inflateInit2(&s, 16 + MAX_WBITS), Z_OK);
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  s.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  char buf[4096];
  for (;;) {
    s.next_out = reinterpret_cast<Bytef*>(buf);
    s.avail_out = sizeof buf;
    const int rc = inflate(&s, Z_NO_FLUSH);
    out.append(buf, sizeof buf - s.avail_out);
    if (rc == Z_STREAM_END) {
      if (s.avail_in == 0) break;
      inflateReset(&s);
    } else if (rc != Z_OK) {
      ADD_FAILURE() << "inflate failed: " << rc;
      break;
    }
  }
  inflateEnd(&s);
  return out;
}

std::size_t allocated_bytes() {
#ifdef __SANITIZE_ADDRESS__
  return __sanitizer_get_current_allocated_bytes();
#else
  const auto mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#endif
}

// ---------------------------------------------------------------------------------------------

TEST(GzipMemberTest, RejectsLevelsOutsideZeroToNine) {
  EXPECT_THROW(GzipMemberCompressor(-1), std::invalid_argument);
  EXPECT_THROW(GzipMemberCompressor(10), std::invalid_argument);
  EXPECT_THROW(GzipMemberCompressor(12), std::invalid_argument);
  for (int level = 0; level <= 9; ++level) EXPECT_EQ(GzipMemberCompressor(level).level(), level);
}

TEST(GzipMemberTest, EveryLevelWritesOneCompleteMemberThatZlibInflates) {
  const std::string data = frame(make_records(300, 7));
  for (int level = 0; level <= 9; ++level) {
    GzipMemberCompressor gz(level);
    std::string out = "prefix";
    gz.compress(bytes_of(data), out);
    ASSERT_EQ(out.substr(0, 6), "prefix") << "compress must append, not overwrite";
    const std::string member = out.substr(6);
    ASSERT_GE(member.size(), 18u);
    EXPECT_EQ(static_cast<unsigned char>(member[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>(member[1]), 0x8b);
    EXPECT_EQ(static_cast<unsigned char>(member[2]), 8);  // deflate
    EXPECT_EQ(gunzip(member), data) << "level " << level;
    if (level >= 1) {
      EXPECT_LT(member.size(), data.size()) << "level " << level;
    }
  }
}

TEST(GzipMemberTest, EmptyInputIsAValidMemberAndMovesKeepWorking) {
  GzipMemberCompressor a(6);
  std::string out;
  a.compress({}, out);
  EXPECT_FALSE(out.empty());
  EXPECT_EQ(gunzip(out), "");

  GzipMemberCompressor b(std::move(a));
  std::string out2;
  b.compress(bytes_of(std::string("hello hello hello")), out2);
  EXPECT_EQ(gunzip(out2), "hello hello hello");
  EXPECT_THROW(a.compress({}, out2), std::logic_error);  // NOLINT(bugprone-use-after-move)
}

// ---------------------------------------------------------------------------------------------

TEST(DayFileReaderTest, EmptyFileHasNoRecordsAndNoDamage) {
  test::TempDir dir;
  const auto p = dir.path() / "empty.pb.gz";
  write_file(p, "");
  const auto r = read_all(p);
  EXPECT_TRUE(r.records.empty());
  EXPECT_FALSE(r.damage.has_value());
  EXPECT_EQ(r.clean_end, 0u);

  // A file holding only an empty member is also a clean, empty archive.
  std::string gz;
  GzipMemberCompressor(6).compress({}, gz);
  write_file(p, gz);
  const auto r2 = read_all(p);
  EXPECT_TRUE(r2.records.empty());
  EXPECT_FALSE(r2.damage.has_value());
  EXPECT_EQ(r2.clean_end, gz.size());
}

TEST(DayFileReaderTest, ThrowsWhenFileCannotBeOpened) {
  test::TempDir dir;
  EXPECT_THROW(DayFileReader(dir.path() / "missing.pb.gz"), std::runtime_error);
  EXPECT_THROW(DayFileReader(dir.path()), std::runtime_error);
}

TEST(DayFileReaderTest, RoundTripsManyRecordsAcrossManyMembers) {
  test::TempDir dir;
  Records records = make_records(5000, 1);
  // Records bigger than the reader's 256 KiB chunks, one spanning several chunks of a member.
  records.insert(records.begin() + 1234, std::string(1536 * 1024, 'x') + "end");
  records.insert(records.begin() + 2500, make_records(1, 9, 0)[0]);  // another empty record
  std::mt19937 rng(3);
  std::string big(600 * 1024, '\0');
  for (auto& c : big) c = static_cast<char>(rng());
  records.insert(records.begin() + 4000, big);

  // Members of varying record counts and levels; the writer's choice must not matter to the reader.
  std::vector<std::string> pieces;
  for (std::size_t i = 0, k = 0; i < records.size(); ++k) {
    const std::size_t n = 1 + (k * 37) % 400;
    pieces.push_back(frame(records, i, std::min(records.size(), i + n)));
    i += n;
  }
  Layout l = build(records, pieces, 1);
  ASSERT_GT(l.member_start.size(), 20u);
  const auto p = dir.path() / "many.pb.gz";
  write_file(p, l.file);

  const auto r = read_all(p);
  EXPECT_FALSE(r.damage.has_value()) << r.damage->message;
  ASSERT_EQ(r.records.size(), records.size());
  for (std::size_t i = 0; i < records.size(); ++i) ASSERT_EQ(r.records[i], records[i]) << "record " << i;
  EXPECT_EQ(r.member_offsets, l.record_member);
  EXPECT_EQ(r.records_read, records.size());
  EXPECT_EQ(r.clean_end, l.file.size());
}

TEST(DayFileReaderTest, RecordsSpanningMemberBoundariesAndEmptyMembers) {
  test::TempDir dir;
  const Records records = {std::string(300, 'a'), std::string(50, 'b'), std::string(1000, 'c'), "", "tail"};
  // Cut inside record 0's two-byte varint, inside record 1's body twice at the same place (an empty
  // member), right after record 2's varint (its body is all in later members), and one byte before
  // record 2 ends.
  const std::size_t r1 = 2 + 300;
  const std::size_t r2 = r1 + 1 + 50;
  const Layout l = build_split(records, {1, r1 + 20, r1 + 20, r2 + 2, r2 + 2 + 999});
  ASSERT_EQ(l.member_start.size(), 6u);
  const auto p = dir.path() / "span.pb.gz";
  write_file(p, l.file);

  const auto r = read_all(p);
  EXPECT_FALSE(r.damage.has_value());
  EXPECT_EQ(r.records, records);
  // Each record is attributed to the member its first (varint) byte is in.
  EXPECT_EQ(r.member_offsets,
            (std::vector<std::uint64_t>{l.member_start[0], l.member_start[1], l.member_start[3],
                                        l.member_start[5], l.member_start[5]}));
  EXPECT_EQ(r.member_offsets, l.record_member);
  EXPECT_EQ(r.clean_end, l.file.size());
}

TEST(DayFileReaderTest, CleanMemberEndWithPartialRecordIsDamage) {
  test::TempDir dir;
  const Records records = {"first", std::string(300, 'a')};
  const std::string stream = frame(records);
  const auto p = dir.path() / "partial.pb.gz";
  // Every member is intact; the record stream stops inside record 1's varint, then inside its body.
  for (const std::size_t keep : {std::size_t{7}, std::size_t{6 + 2 + 100}}) {
    std::string file;
    GzipMemberCompressor gz(6);
    gz.compress(bytes_of(stream.substr(0, 4)), file);
    gz.compress(bytes_of(stream.substr(4, keep - 4)), file);
    write_file(p, file);
    const auto r = read_all(p);
    EXPECT_EQ(r.records, Records{"first"});
    ASSERT_TRUE(r.damage.has_value()) << "keep " << keep;
    EXPECT_NE(r.damage->message.find("truncated record"), std::string::npos) << r.damage->message;
    EXPECT_EQ(r.damage->offset, file.size());
    EXPECT_EQ(r.clean_end, file.size());
  }
}

TEST(DayFileReaderTest, RecordsSplitAcrossTinyAndLargeMembers) {
  test::TempDir dir;
  Records records = make_records(3000, 5);
  records.insert(records.begin() + 10, std::string(20000, 'z'));
  records.insert(records.begin() + 2000, std::string(300000, 'y'));
  const std::string stream = frame(records);
  // Members of 1..10 bytes mixed with ones up to 200 KB, so the reader's buffer is compacted and grown
  // while a pending record spans members and a member's output spans several buffer fills.
  std::mt19937 rng(6);
  std::vector<std::size_t> cuts;
  for (std::size_t c = 0, k = 0;; ++k) {
    c += 1 + rng() % (k % 2 ? 10 : 200000);
    if (c >= stream.size()) break;
    cuts.push_back(c);
  }
  const Layout l = build_split(records, cuts);
  ASSERT_GT(l.member_start.size(), 8u);
  const auto p = dir.path() / "tiny.pb.gz";
  write_file(p, l.file);

  const auto r = read_all(p);
  EXPECT_FALSE(r.damage.has_value());
  EXPECT_EQ(r.records, records);
  EXPECT_EQ(r.member_offsets, l.record_member);
  EXPECT_EQ(r.clean_end, l.file.size());
}

// A record starting near the end of one big member and finishing in the next, at many sizes around
// the reader's internal buffer sizes, so the buffer is compacted and grown while it is pending.
TEST(DayFileReaderTest, RecordsSpanningLargeMembersAtManySizes) {
  test::TempDir dir;
  const auto p = dir.path() / "large.pb.gz";
  const Records filler = make_records(1200, 8, 2000);  // ~1.2 MB of ~1 KB records
  for (const std::size_t before_kib : {50u, 100u, 150u, 200u, 300u}) {
    for (const std::size_t head_kib : {1u, 40u}) {
      for (const std::size_t big_kib : {60u, 150u, 300u}) {
        SCOPED_TRACE(std::to_string(before_kib) + "/" + std::to_string(head_kib) + "/" +
                     std::to_string(big_kib));
        Records records;
        std::size_t bytes = 0;
        std::size_t i = 0;
        while (bytes < before_kib * 1024) {
          bytes += filler[i].size() + 2;
          records.push_back(filler[i++]);
        }
        const std::size_t cut = frame(records).size() + head_kib * 1024;
        records.push_back(std::string(big_kib * 1024, 'B'));
        for (std::size_t j = 0; j < 100; ++j) records.push_back(filler[i++]);
        const Layout l = build_split(records, {cut}, 1);
        write_file(p, l.file);
        const auto r = read_all(p);
        EXPECT_FALSE(r.damage.has_value());
        ASSERT_EQ(r.records, records);
        ASSERT_EQ(r.member_offsets, l.record_member);
      }
    }
  }
}

TEST(DayFileReaderTest, ReadsSingleStreamGzipWrittenByZlib) {
  test::TempDir dir;
  const Records records = make_records(3000, 11);
  const std::string stream = frame(records);
  const auto p = dir.path() / "zlib.pb.gz";
  {
    gzFile f = gzopen(p.c_str(), "wb6");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(gzwrite(f, stream.data(), static_cast<unsigned>(stream.size())),
              static_cast<int>(stream.size()));
    ASSERT_EQ(gzclose(f), Z_OK);
  }
  const auto r = read_all(p);
  EXPECT_FALSE(r.damage.has_value());
  EXPECT_EQ(r.records, records);
  EXPECT_TRUE(std::all_of(r.member_offsets.begin(), r.member_offsets.end(), [](auto o) { return o == 0; }));
  EXPECT_EQ(r.clean_end, std::filesystem::file_size(p));
}

TEST(DayFileReaderTest, WrittenFilesAreZcatCompatible) {
  test::TempDir dir;
  const Records records = make_records(2000, 12);
  const Layout l = build_aligned(records, 150);
  ASSERT_GT(l.member_start.size(), 5u);
  const auto p = dir.path() / "multi.pb.gz";
  write_file(p, l.file);

  // zlib's gz* API is what zcat-alike tools use; it must see one continuous stream.
  gzFile f = gzopen(p.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::string out;
  char buf[8192];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  EXPECT_EQ(n, 0);
  EXPECT_EQ(gzclose(f), Z_OK);
  EXPECT_EQ(out, frame(records));
}

// Cutting a file at every byte: the reader stops at the cut with the records before it.
void check_every_truncation(const Records& records, const Layout& l, const std::filesystem::path& p) {
  std::size_t boundary_cuts = 0;
  for (std::size_t cut = 0; cut <= l.file.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut) + " of " + std::to_string(l.file.size()));
    write_file(p, std::string_view(l.file).substr(0, cut));
    const auto r = read_all(p);

    // Members wholly before the cut, and the partial one the cut falls into (if any).
    std::size_t intact = 0;
    while (intact < l.member_end.size() && l.member_end[intact] <= cut) ++intact;
    const std::uint64_t intact_end = intact ? l.member_end[intact - 1] : 0;
    const std::uint64_t intact_stream = intact ? l.payload_end[intact - 1] : 0;
    const std::size_t min_records = complete_records_within(l, intact_stream);

    ASSERT_EQ(r.clean_end, intact_end);
    ASSERT_EQ(r.records_read, r.records.size());
    for (std::size_t i = 0; i < r.records.size(); ++i) {
      ASSERT_LT(i, records.size());
      ASSERT_EQ(r.records[i], records[i]) << "record " << i;
      ASSERT_EQ(r.member_offsets[i], l.record_member[i]) << "record " << i;
    }
    ASSERT_GE(r.records.size(), min_records);

    if (cut == intact_end) {
      ++boundary_cuts;
      // At a member boundary the reader has everything; damage only if a record is left half-done.
      ASSERT_EQ(r.records.size(), min_records);
      const bool stream_complete =
          min_records == 0 ? intact_stream == 0 : l.record_end[min_records - 1] == intact_stream;
      if (stream_complete) {
        ASSERT_FALSE(r.damage.has_value()) << r.damage->message;
      } else {
        ASSERT_TRUE(r.damage.has_value());
        EXPECT_NE(r.damage->message.find("truncated record"), std::string::npos) << r.damage->message;
        EXPECT_EQ(r.damage->offset, cut);
      }
    } else {
      ASSERT_TRUE(r.damage.has_value());
      EXPECT_NE(r.damage->message.find("truncated gzip member"), std::string::npos) << r.damage->message;
      EXPECT_EQ(r.damage->offset, cut);
      // A truncated deflate stream yields a prefix of the member's payload, never more.
      ASSERT_LE(r.records.size(), complete_records_within(l, l.payload_end[intact]));
    }
  }
  EXPECT_EQ(boundary_cuts, l.member_start.size() + 1);
}

TEST(DayFileReaderTest, TruncationAtEveryByteOfAlignedMembers) {
  test::TempDir dir;
  const Records records = make_records(24, 21, 150);
  const Layout l = build_aligned(records, 6);
  ASSERT_EQ(l.member_start.size(), 4u);
  check_every_truncation(records, l, dir.path() / "cut.pb.gz");
}

TEST(DayFileReaderTest, TruncationAtEveryByteWithRecordsSpanningMembers) {
  test::TempDir dir;
  const Records records = make_records(24, 22, 150);
  const std::size_t total = frame(records).size();
  const Layout l = build_split(records, {total / 4 + 1, total / 2 + 3, 3 * total / 4 + 5});
  check_every_truncation(records, l, dir.path() / "cut.pb.gz");
}

TEST(DayFileReaderTest, RandomByteFlipsNeverCrashAndKeepIntactMembers) {
  test::TempDir dir;
  const Records records = make_records(40, 31, 200);
  const Layout l = build_aligned(records, 8);
  ASSERT_EQ(l.member_start.size(), 5u);
  const auto p = dir.path() / "flip.pb.gz";
  std::mt19937 rng(20240917);
  std::size_t detected = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::string bad = l.file;
    const int flips = 1 + trial % 3;
    std::size_t first = bad.size();
    for (int f = 0; f < flips; ++f) {
      const std::size_t at = rng() % bad.size();
      bad[at] = static_cast<char>(bad[at] ^ (1 + rng() % 255));
      first = std::min(first, at);
    }
    SCOPED_TRACE("trial " + std::to_string(trial) + ", first flip at " + std::to_string(first));
    write_file(p, bad);
    const auto r = read_all(p);

    std::size_t m = 0;  // the member holding the first flipped byte
    while (l.member_end[m] <= first) ++m;
    const std::size_t before = complete_records_within(l, m ? l.payload_end[m - 1] : 0);

    // Everything before the damaged member comes back intact and attributed to its member.
    ASSERT_GE(r.records.size(), before);
    for (std::size_t i = 0; i < before; ++i) {
      ASSERT_EQ(r.records[i], records[i]);
      ASSERT_EQ(r.member_offsets[i], l.record_member[i]);
    }
    ASSERT_GE(r.clean_end, l.member_start[m]);
    ASSERT_LE(r.clean_end, bad.size());
    for (const auto& rec : r.records) ASSERT_LE(rec.size(), kMaxRecordBytes);
    if (r.damage) {
      ++detected;
      EXPECT_FALSE(r.damage->message.empty());
      ASSERT_GE(r.damage->offset, l.member_start[m]);
      ASSERT_LE(r.damage->offset, bad.size());
    } else {
      // Undetected flips can only be in unchecked header bytes (MTIME, XFL, OS, FTEXT): the data
      // itself is covered by CRC-32 and ISIZE, so the records must be exactly the originals.
      ASSERT_EQ(r.records, records);
      ASSERT_EQ(r.clean_end, bad.size());
    }
  }
  // Most flips land in deflate data and must be caught.
  EXPECT_GT(detected, 300u);
}

TEST(DayFileReaderTest, RandomBytesAreDamageNotACrash) {
  test::TempDir dir;
  const auto p = dir.path() / "noise.pb.gz";
  std::mt19937 rng(77);
  for (int trial = 0; trial < 200; ++trial) {
    std::string noise(1 + rng() % 3000, '\0');
    for (auto& c : noise) c = static_cast<char>(rng());
    // Half the time behind a plausible gzip header, so inflate gets past the magic bytes.
    if (trial % 2 == 0) noise.replace(0, std::min<std::size_t>(4, noise.size()), "\x1f\x8b\x08\x00", 4);
    write_file(p, noise);
    const auto r = read_all(p);
    ASSERT_TRUE(r.damage.has_value()) << "trial " << trial;
    EXPECT_EQ(r.clean_end, 0u) << "trial " << trial;
    EXPECT_LE(r.damage->offset, noise.size());
  }
}

TEST(DayFileReaderTest, HugeLengthPrefixIsDamageNotAnAllocation) {
  test::TempDir dir;
  const auto p = dir.path() / "huge.pb.gz";
  GzipMemberCompressor gz(6);

  std::string stream;
  append_varint(stream, 5);
  stream += "hello";
  append_varint(stream, 1ull << 40);
  stream += "not a terabyte";
  std::string file;
  gz.compress(bytes_of(std::string("\x02hi", 3)), file);
  const std::uint64_t second_member = file.size();
  gz.compress(bytes_of(stream), file);
  write_file(p, file);
  {
    const auto r = read_all(p);
    EXPECT_EQ(r.records, (Records{"hi", "hello"}));
    ASSERT_TRUE(r.damage.has_value());
    EXPECT_NE(r.damage->message.find("record length 1099511627776 exceeds limit"), std::string::npos)
        << r.damage->message;
    EXPECT_EQ(r.damage->offset, second_member);
  }

  // A length at the limit is allowed, but when the data is not there the reader must not have
  // reserved the claimed 256 MiB: memory follows the bytes that actually arrive.
  stream.clear();
  append_varint(stream, kMaxRecordBytes);
  stream += std::string(std::size_t{1} << 20, 'q');  // more than one buffer's worth actually arrives
  file.clear();
  gz.compress(bytes_of(stream), file);
  write_file(p, file);
  {
    const std::size_t before = allocated_bytes();
    DayFileReader reader(p);
    EXPECT_FALSE(reader.next().has_value());
    ASSERT_TRUE(reader.damage().has_value());
    EXPECT_NE(reader.damage()->message.find("truncated record"), std::string::npos)
        << reader.damage()->message;
    const auto grown = static_cast<long long>(allocated_bytes()) - static_cast<long long>(before);
    EXPECT_LT(grown, 16ll << 20);
  }

  // Over-long and overflowing varints.
  for (const std::string& bad : {std::string(11, '\xff'), std::string(9, '\xff') + '\x02'}) {
    file.clear();
    gz.compress(bytes_of(bad), file);
    write_file(p, file);
    const auto r = read_all(p);
    EXPECT_TRUE(r.records.empty());
    ASSERT_TRUE(r.damage.has_value());
    EXPECT_NE(r.damage->message.find("malformed record length"), std::string::npos) << r.damage->message;
  }
  // The largest 10-byte varint is well-formed but over the limit.
  file.clear();
  gz.compress(bytes_of(std::string(9, '\xff') + '\x01'), file);
  write_file(p, file);
  const auto r = read_all(p);
  ASSERT_TRUE(r.damage.has_value());
  EXPECT_NE(r.damage->message.find("record length 18446744073709551615 exceeds"), std::string::npos)
      << r.damage->message;
}

TEST(DayFileReaderTest, StartOffsetAtMemberBoundaryReadsFromThere) {
  test::TempDir dir;
  const Records records = make_records(30, 41);
  const Layout l = build_aligned(records, 10);
  const auto p = dir.path() / "seek.pb.gz";
  write_file(p, l.file);

  const auto r = read_all(p, l.member_start[1]);
  EXPECT_FALSE(r.damage.has_value());
  EXPECT_EQ(r.records, Records(records.begin() + 10, records.end()));
  EXPECT_EQ(r.member_offsets,
            std::vector<std::uint64_t>(l.record_member.begin() + 10, l.record_member.end()));
  EXPECT_EQ(r.clean_end, l.file.size());

  const auto at_end = read_all(p, l.file.size());
  EXPECT_TRUE(at_end.records.empty());
  EXPECT_FALSE(at_end.damage.has_value());

  const auto beyond = read_all(p, l.file.size() + 1);
  EXPECT_TRUE(beyond.records.empty());
  ASSERT_TRUE(beyond.damage.has_value());
  EXPECT_NE(beyond.damage->message.find("beyond the end"), std::string::npos);

  // Not a member start: reported as damage, not garbage records.
  const auto mid = read_all(p, l.member_start[1] + 3);
  EXPECT_TRUE(mid.records.empty());
  ASSERT_TRUE(mid.damage.has_value());
  EXPECT_GE(mid.damage->offset, l.member_start[1] + 3);
}

TEST(DayFileReaderTest, TrailingGarbageAfterLastMemberIsDamage) {
  test::TempDir dir;
  const Records records = make_records(20, 51);
  const Layout l = build_aligned(records, 7);
  const auto p = dir.path() / "garbage.pb.gz";
  for (const std::string& tail : {std::string("garbage!"), std::string(64, '\0'), std::string("\x1f")}) {
    write_file(p, l.file + tail);
    const auto r = read_all(p);
    EXPECT_EQ(r.records, records);
    ASSERT_TRUE(r.damage.has_value());
    EXPECT_GE(r.damage->offset, l.file.size());
    EXPECT_EQ(r.clean_end, l.file.size());
  }
}

TEST(DayFileReaderTest, CrcAndLengthMismatchAreDamageAfterTheMembersRecords) {
  test::TempDir dir;
  const Records records = make_records(30, 61);
  const Layout l = build_aligned(records, 10);
  const auto p = dir.path() / "crc.pb.gz";
  // The gzip trailer is CRC-32 then ISIZE, the last 8 bytes of a member.
  for (const auto& [back, what] :
       {std::pair{8, "incorrect data check"}, std::pair{2, "incorrect length check"}}) {
    std::string bad = l.file;
    bad[l.member_end[1] - back] ^= 0x40;
    write_file(p, bad);
    const auto r = read_all(p);
    // The member's payload inflated correctly before its trailer was checked.
    EXPECT_EQ(r.records, Records(records.begin(), records.begin() + 20));
    ASSERT_TRUE(r.damage.has_value());
    EXPECT_NE(r.damage->message.find(what), std::string::npos) << r.damage->message;
    EXPECT_NE(r.damage->message.find(std::to_string(l.member_start[1])), std::string::npos)
        << r.damage->message;
    EXPECT_GT(r.damage->offset, l.member_start[1]);
    EXPECT_LE(r.damage->offset, l.member_end[1]);
    EXPECT_EQ(r.clean_end, l.member_end[0]);
  }
}

TEST(DayFileReaderTest, MovedReaderContinuesWhereItWas) {
  test::TempDir dir;
  const Records records = make_records(50, 71);
  const Layout l = build_aligned(records, 20);
  const auto p = dir.path() / "move.pb.gz";
  write_file(p, l.file);

  DayFileReader a(p);
  ASSERT_EQ(a.next(), std::optional<std::string_view>(records[0]));
  DayFileReader b(std::move(a));
  Records rest;
  while (auto rec = b.next()) rest.emplace_back(*rec);
  EXPECT_EQ(rest, Records(records.begin() + 1, records.end()));
  EXPECT_EQ(b.records_read(), records.size());
  EXPECT_FALSE(b.damage().has_value());
}

}  // namespace
}  // namespace pb
