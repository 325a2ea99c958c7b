#include "archive/member_read.hpp"

#include <fcntl.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string_view>

#include <libdeflate.h>

#include "base/posix_file.hpp"

namespace pb {
namespace {

constexpr std::size_t kMaxBytes = 16u << 20;     // beyond this either way: the sequential reader's job

// True when `data` is a whole number of varint-framed records.
bool whole_records(std::string_view data) {
  while (!data.empty()) {
    std::uint64_t len = 0;
    int shift = 0;
    for (;; shift += 7) {
      if (data.empty() || shift > 63) return false;
      const auto b = static_cast<std::uint8_t>(data.front());
      data.remove_prefix(1);
      len |= std::uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    if (len > data.size()) return false;
    data.remove_prefix(len);
  }
  return true;
}

}  // namespace

void MemberInflater::Free::operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }

MemberInflater::MemberInflater() : d_(libdeflate_alloc_decompressor()) {
  if (!d_) throw std::bad_alloc();
}

MemberInflater::~MemberInflater() = default;

std::optional<std::string_view> MemberInflater::inflate(const std::filesystem::path& file, std::uint64_t offset) {
  const UniqueFd f = open_or_throw(file, O_RDONLY | O_CLOEXEC);
  std::size_t want_in = first_read_, have = 0;
  bool eof = false;
  while (true) {
    if (have < want_in && !eof) {
      if (in_.size() < want_in) in_.resize(want_in);
      const std::size_t n = read_at_most(f.get(), in_.data() + have, want_in - have, offset + have, file);
      eof = have + n < want_in;
      have += n;
    }
    if (out_.size() < 2 * have) out_.resize(std::min(kMaxBytes, std::max<std::size_t>(4 * have, 256u << 10)));
    std::size_t in_used = 0, produced = 0;
    const auto r = libdeflate_gzip_decompress_ex(d_.get(), in_.data(), have, out_.data(), out_.size(), &in_used, &produced);
    if (r == LIBDEFLATE_SUCCESS) {
      // The next member of this file is most likely about as large: read that much (and a margin) first.
      first_read_ = std::clamp<std::size_t>(in_used + in_used / 4 + 4096, 16u << 10, kMaxBytes);
      last_member_size_ = in_used;
      const std::string_view bytes(out_.data(), produced);
      if (!whole_records(bytes)) return std::nullopt;
      return bytes;
    }
    // Too little input (the member goes on past what was read) looks like bad data to libdeflate; so
    // does real damage, which only the end of the file or the size cap tells apart.
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE && out_.size() < kMaxBytes) {
      out_.resize(std::min(kMaxBytes, out_.size() * 2));
      continue;
    }
    if (r == LIBDEFLATE_BAD_DATA && !eof && want_in < kMaxBytes) {
      want_in = std::min(kMaxBytes, want_in * 2);
      continue;
    }
    return std::nullopt;
  }
}

std::optional<std::string> inflate_member_at(const std::filesystem::path& file, std::uint64_t offset) {
  MemberInflater inflater;
  const auto bytes = inflater.inflate(file, offset);
  if (!bytes) return std::nullopt;
  return std::string(*bytes);
}

}  // namespace pb
