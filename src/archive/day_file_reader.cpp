#include "archive/day_file_reader.hpp"

#include <libdeflate.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <deque>
#include <new>
#include <stdexcept>
#include <string>

#include "archive/proto_codec.hpp"

namespace pb {
namespace {

constexpr std::size_t kInputChunk = 2u << 20;
constexpr std::size_t kOutputChunk = 256u << 10;
// A whole member is inflated in one libdeflate call (about twice zlib's speed) when its compressed bytes
// are in the input buffer and its output fits in this much room: our writer's members hold ~128 KiB
// (1 MiB before 2026-12), plus at most one record.
constexpr std::size_t kWholeMemberRoom = (1u << 20) + (512u << 10);
// Never inflate into less room than this: tiny inflate calls would dominate the cost.
constexpr std::size_t kMinFree = 64u << 10;
constexpr std::size_t kMaxVarintBytes = 10;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// A zlib inflate stream in gzip-only mode. Not movable: zlib's state points back at the z_stream.
class GzipInflater {
 public:
  GzipInflater() {
    if (inflateInit2(&s_, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();
  }
  ~GzipInflater() { inflateEnd(&s_); }
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;

  z_stream& get() { return s_; }

 private:
  z_stream s_{};
};

struct DecompressorFree {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};
using DecompressorPtr = std::unique_ptr<libdeflate_decompressor, DecompressorFree>;

// The decompressed-stream position of a member's first output byte, so a record start can be mapped
// back to the member (random-access point) it begins in.
struct MemberStart {
  std::uint64_t stream_pos;
  std::uint64_t file_offset;
};

std::string errno_text() { return std::strerror(errno); }

}  // namespace

struct DayFileReader::Impl {
  Impl(const std::filesystem::path& path, std::uint64_t start_offset);
  std::optional<std::string_view> next();

  std::uint64_t file_pos() { return read_end - inflater.get().avail_in; }
  bool fill(std::size_t need);
  void make_room(std::size_t need);
  void inflate_some();
  bool inflate_whole_member();
  void top_up_input();
  bool refill_input();
  void note_output(std::size_t produced);
  std::uint64_t member_of(std::uint64_t stream_pos);
  void fail(std::uint64_t offset, std::string message);
  std::nullopt_t stop(std::optional<ReadDamage> d);

  FilePtr file;
  GzipInflater inflater;
  DecompressorPtr whole;  // libdeflate, for the fast path; zlib streams everything else
  std::unique_ptr<unsigned char[]> in = std::make_unique_for_overwrite<unsigned char[]>(kInputChunk);
  std::uint64_t read_end = 0;  // file offset just past the compressed bytes read so far

  // Decompressed bytes not yet returned live in buf[rpos, wend); buf[0] is stream position buf_base.
  std::unique_ptr<unsigned char[]> buf;
  std::size_t cap = 0;
  std::size_t rpos = 0;
  std::size_t wend = 0;
  std::uint64_t buf_base = 0;

  std::deque<MemberStart> members;
  bool at_member_boundary = true;
  bool member_has_output = false;
  std::uint64_t member_offset = 0;
  // Stream position of the record being assembled; see note_output.
  std::uint64_t rec_start = 0;

  std::uint64_t last_record_member = 0;
  std::uint64_t clean_end = 0;
  std::uint64_t records = 0;

  bool input_done = false;            // no more decompressed bytes will arrive
  std::optional<ReadDamage> pending;  // gzip/IO damage, reported once buffered records are out
  bool stopped = false;
  std::optional<ReadDamage> damage;  // published when next() returns nullopt
};

DayFileReader::Impl::Impl(const std::filesystem::path& path, std::uint64_t start_offset)
    : file(std::fopen(path.c_str(), "rb")),
      read_end(start_offset),
      member_offset(start_offset),
      last_record_member(start_offset),
      clean_end(start_offset) {
  if (!file) throw std::runtime_error("cannot open " + path.string() + ": " + errno_text());
  whole.reset(libdeflate_alloc_decompressor());
  if (!whole) throw std::bad_alloc();
  struct stat st {};
  if (::fstat(::fileno(file.get()), &st) != 0) {
    throw std::runtime_error("cannot stat " + path.string() + ": " + errno_text());
  }
  if (S_ISDIR(st.st_mode)) throw std::runtime_error("cannot open " + path.string() + ": is a directory");
  if (start_offset == 0) return;  // no seek: pipes and /dev/stdin work from the start
  if (S_ISREG(st.st_mode) && start_offset > static_cast<std::uint64_t>(st.st_size)) {
    fail(start_offset, "start offset " + std::to_string(start_offset) + " is beyond the end of the file (" +
                           std::to_string(st.st_size) + " bytes)");
    return;
  }
  if (start_offset > static_cast<std::uint64_t>(LLONG_MAX) ||
      ::fseeko(file.get(), static_cast<off_t>(start_offset), SEEK_SET) != 0) {
    throw std::runtime_error("cannot seek " + path.string() + " to offset " + std::to_string(start_offset));
  }
}

void DayFileReader::Impl::fail(std::uint64_t offset, std::string message) {
  if (!pending) pending = ReadDamage{offset, std::move(message)};
  input_done = true;
}

std::nullopt_t DayFileReader::Impl::stop(std::optional<ReadDamage> d) {
  stopped = true;
  damage = std::move(d);
  return std::nullopt;
}

bool DayFileReader::Impl::refill_input() {
  z_stream& s = inflater.get();
  const std::size_t n = std::fread(in.get(), 1, kInputChunk, file.get());
  if (n == 0) {
    if (std::ferror(file.get())) {
      fail(read_end, "read error: " + errno_text());
    } else if (at_member_boundary) {
      input_done = true;  // clean end of file
    } else {
      fail(read_end, "truncated gzip member: the member starting at offset " + std::to_string(member_offset) +
                         " is cut off by the end of the file");
    }
    return false;
  }
  s.next_in = in.get();
  s.avail_in = static_cast<uInt>(n);
  read_end += n;
  return true;
}

void DayFileReader::Impl::note_output(std::size_t produced) {
  if (produced == 0) return;
  if (!member_has_output) {
    // Inflate only runs while the pending record is incomplete, so a previous member that began after
    // the record's start lies wholly inside it and no record can start there: forget it, so a huge
    // record split into many tiny members cannot grow `members` without bound.
    if (!members.empty() && members.back().stream_pos > rec_start) members.pop_back();
    members.push_back({buf_base + wend, member_offset});
    member_has_output = true;
  }
  wend += produced;
}

// At a member boundary: moves the unread input to the front of the buffer and reads more behind it, so
// a whole member is likely to be in memory for the fast path. Read errors and the end of the file are
// left for refill_input() to find and report.
void DayFileReader::Impl::top_up_input() {
  z_stream& s = inflater.get();
  if (s.avail_in >= kInputChunk / 2 || std::feof(file.get()) || std::ferror(file.get())) return;
  if (s.avail_in > 0) std::memmove(in.get(), s.next_in, s.avail_in);
  s.next_in = in.get();
  const std::size_t n = std::fread(in.get() + s.avail_in, 1, kInputChunk - s.avail_in, file.get());
  s.avail_in += static_cast<uInt>(n);
  read_end += n;
}

// The fast path: inflates the member that starts at the next input byte in one libdeflate call, which
// also checks its CRC-32 and length. Returns false, consuming nothing, when the member is not wholly in
// the input buffer, needs more room than is free, or is damaged: zlib then streams it exactly as if
// this path did not exist (so damage is found and reported at the same offsets).
bool DayFileReader::Impl::inflate_whole_member() {
  z_stream& s = inflater.get();
  if (cap - wend < kWholeMemberRoom) return false;
  // libdeflate skips a header CRC (FHCRC) where zlib checks it: leave such members to zlib.
  if (s.avail_in < 4 || (s.next_in[3] & 0x02) != 0) return false;
  std::size_t in_used = 0, produced = 0;
  const libdeflate_result rc = libdeflate_gzip_decompress_ex(whole.get(), s.next_in, s.avail_in, buf.get() + wend,
                                                             cap - wend, &in_used, &produced);
  if (rc != LIBDEFLATE_SUCCESS) return false;
  note_output(produced);
  s.next_in += in_used;
  s.avail_in -= static_cast<uInt>(in_used);
  clean_end = file_pos();
  at_member_boundary = true;
  return true;
}

// Runs inflate until it produces some output, or the input ends or turns out to be damaged.
void DayFileReader::Impl::inflate_some() {
  z_stream& s = inflater.get();
  while (!input_done) {
    if (at_member_boundary) top_up_input();
    if (s.avail_in == 0 && !refill_input()) return;
    if (at_member_boundary) {
      at_member_boundary = false;
      member_has_output = false;
      member_offset = file_pos();
      if (inflate_whole_member()) {
        if (member_has_output) return;
        continue;  // an empty member
      }
    }
    s.next_out = buf.get() + wend;
    s.avail_out = static_cast<uInt>(std::min<std::size_t>(cap - wend, UINT_MAX));
    const uInt in_before = s.avail_in;
    const uInt out_before = s.avail_out;
    const int rc = ::inflate(&s, Z_NO_FLUSH);
    const std::size_t produced = out_before - s.avail_out;
    note_output(produced);
    switch (rc) {
      case Z_STREAM_END:
        // Trailer CRC-32 and ISIZE were verified by zlib; the next byte must start a new member.
        clean_end = file_pos();
        ::inflateReset(&s);
        at_member_boundary = true;
        break;
      case Z_OK:
      case Z_BUF_ERROR:
        // Both are fine while input is consumed; no progress at all with room on both sides would
        // otherwise spin forever.
        if (produced == 0 && s.avail_in == in_before && s.avail_in != 0) {
          fail(file_pos(), "gzip stream made no progress in the member starting at offset " +
                               std::to_string(member_offset));
          return;
        }
        break;
      case Z_DATA_ERROR:
        fail(file_pos(), "corrupt gzip member starting at offset " + std::to_string(member_offset) + ": " +
                             (s.msg ? s.msg : "data error"));
        return;
      case Z_NEED_DICT:
        fail(file_pos(), "gzip member starting at offset " + std::to_string(member_offset) +
                             " asks for a preset dictionary");
        return;
      case Z_MEM_ERROR:
        throw std::bad_alloc();
      default:
        throw std::logic_error("inflate returned unexpected code " + std::to_string(rc));
    }
    if (produced > 0) return;
  }
}

// Ensures inflate has room to write: compacts the consumed prefix away, and grows the buffer only
// towards what the pending record needs, so a lying length prefix costs memory only as data arrives.
void DayFileReader::Impl::make_room(std::size_t need) {
  // At a member boundary, keep room for a whole member so the fast path can take it.
  const std::size_t want = at_member_boundary ? kWholeMemberRoom : kMinFree;
  if (cap - wend >= want) return;
  const std::size_t avail = wend - rpos;
  if (rpos > 0) {
    std::memmove(buf.get(), buf.get() + rpos, avail);
    buf_base += rpos;
    rpos = 0;
    wend = avail;
    if (cap - wend >= want) return;
  }
  const std::size_t new_cap = std::max({kOutputChunk, avail + want, std::min(cap * 2, need + kMinFree)});
  auto bigger = std::make_unique_for_overwrite<unsigned char[]>(new_cap);
  if (avail > 0) std::memcpy(bigger.get(), buf.get(), avail);
  buf = std::move(bigger);
  cap = new_cap;
}

// True when buf[rpos, rpos + need) holds decompressed bytes; false when the stream ends first.
bool DayFileReader::Impl::fill(std::size_t need) {
  while (wend - rpos < need) {
    if (input_done) return false;
    make_room(need);
    inflate_some();
  }
  return true;
}

std::uint64_t DayFileReader::Impl::member_of(std::uint64_t stream_pos) {
  while (members.size() >= 2 && members[1].stream_pos <= stream_pos) members.pop_front();
  return members.empty() ? member_offset : members.front().file_offset;
}

std::optional<std::string_view> DayFileReader::Impl::next() {
  if (stopped) return std::nullopt;
  rec_start = buf_base + rpos;

  std::uint64_t len = 0;
  std::size_t header = 0;
  for (;;) {
    if (!fill(header + 1)) {
      if (pending) return stop(pending);
      if (header == 0) return stop(std::nullopt);  // clean end between records
      return stop(ReadDamage{read_end, "truncated record at end of file: length prefix cut after " +
                                           std::to_string(header) + " byte(s)"});
    }
    const unsigned char b = buf[rpos + header];
    // The 10th varint byte may only carry bit 63; anything more is overflow or an over-long varint.
    if (header == kMaxVarintBytes - 1 && b > 1) {
      const std::uint64_t member = member_of(rec_start);
      return stop(ReadDamage{member,
                             "malformed record length prefix (varint longer than 64 bits) in the "
                             "member starting at offset " +
                                 std::to_string(member)});
    }
    len |= static_cast<std::uint64_t>(b & 0x7f) << (7 * header);
    ++header;
    if ((b & 0x80) == 0) break;
  }

  const std::uint64_t member = member_of(rec_start);
  if (len > kMaxRecordBytes) {
    return stop(ReadDamage{
        member, "record length " + std::to_string(len) + " exceeds limit " + std::to_string(kMaxRecordBytes) +
                    " (record in the member starting at offset " + std::to_string(member) + ")"});
  }
  const std::size_t total = header + static_cast<std::size_t>(len);
  if (!fill(total)) {
    if (pending) return stop(pending);
    return stop(
        ReadDamage{read_end, "truncated record at end of file: " + std::to_string(wend - rpos - header) +
                                 " of " + std::to_string(len) + " bytes present"});
  }
  last_record_member = member;
  ++records;
  const std::string_view record(reinterpret_cast<const char*>(buf.get() + rpos + header), len);
  rpos += total;
  return record;
}

DayFileReader::DayFileReader(const std::filesystem::path& path, std::uint64_t start_offset)
    : impl_(std::make_unique<Impl>(path, start_offset)) {}
DayFileReader::~DayFileReader() = default;
DayFileReader::DayFileReader(DayFileReader&&) noexcept = default;
DayFileReader& DayFileReader::operator=(DayFileReader&&) noexcept = default;

std::optional<std::string_view> DayFileReader::next() { return impl_->next(); }
std::uint64_t DayFileReader::record_member_offset() const { return impl_->last_record_member; }
std::uint64_t DayFileReader::clean_end_offset() const { return impl_->clean_end; }
const std::optional<ReadDamage>& DayFileReader::damage() const { return impl_->damage; }
std::uint64_t DayFileReader::records_read() const { return impl_->records; }

}  // namespace pb
