#include "s3/part_size.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

#include "s3/multipart_upload.hpp"

namespace pb::s3 {
namespace {

std::uint64_t parse_size(const std::string& s) {
  std::size_t used = 0;
  std::uint64_t v = 0;
  try {
    v = std::stoull(s, &used);
  } catch (const std::exception&) {
    throw std::runtime_error(fmt::format("part size '{}': expected a number with an optional K, M or G suffix", s));
  }
  const std::string unit = s.substr(used);
  if (unit == "K" || unit == "k" || unit == "KiB") return v << 10;
  if (unit == "M" || unit == "m" || unit == "MiB") return v << 20;
  if (unit == "G" || unit == "g" || unit == "GiB") return v << 30;
  if (unit.empty()) return v;
  throw std::runtime_error(fmt::format("part size '{}': unknown unit '{}'", s, unit));
}

}  // namespace

std::uint64_t parse_part_size(const std::string& text) {
  const std::uint64_t size = parse_size(text);
  const char* small = std::getenv("PB_S3_ALLOW_SMALL_PARTS");
  const bool allow_small = small && std::string_view(small) == "1";
  if ((size < kMinPartSize && !allow_small) || size == 0 || size > (5ull << 30))
    throw std::runtime_error(fmt::format("part size {}: S3 parts must be 5 MiB to 5 GiB", text));
  return size;
}

}  // namespace pb::s3
