#include "archive/gzip_member.hpp"

#include <libdeflate.h>

#include <new>
#include <stdexcept>
#include <string>

namespace pb {

void GzipMemberCompressor::Deleter::operator()(libdeflate_compressor* c) const {
  libdeflate_free_compressor(c);
}

GzipMemberCompressor::GzipMemberCompressor(int level) : level_(level) {
  // libdeflate goes up to 12, but levels above 9 are not gzip levels and are very slow; keep the
  // familiar range so a config value means the same thing as for gzip/zlib.
  if (level < 0 || level > 9) {
    throw std::invalid_argument("gzip level must be 0..9, got " + std::to_string(level));
  }
  compressor_.reset(libdeflate_alloc_compressor(level));
  if (!compressor_) throw std::bad_alloc();
}

GzipMemberCompressor::~GzipMemberCompressor() = default;
GzipMemberCompressor::GzipMemberCompressor(GzipMemberCompressor&&) noexcept = default;
GzipMemberCompressor& GzipMemberCompressor::operator=(GzipMemberCompressor&&) noexcept = default;

void GzipMemberCompressor::compress(std::span<const std::uint8_t> data, std::string& out) {
  if (!compressor_) throw std::logic_error("GzipMemberCompressor used after move");
  const std::size_t bound = libdeflate_gzip_compress_bound(compressor_.get(), data.size());
  const std::size_t old_size = out.size();
  out.resize(old_size + bound);
  const std::size_t written =
      libdeflate_gzip_compress(compressor_.get(), data.data(), data.size(), out.data() + old_size, bound);
  if (written == 0) {
    // Cannot happen with a bound-sized buffer; never leave a half-written member behind.
    out.resize(old_size);
    throw std::runtime_error("libdeflate_gzip_compress failed");
  }
  out.resize(old_size + written);
}

}  // namespace pb
