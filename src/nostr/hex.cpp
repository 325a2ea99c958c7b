#include "nostr/hex.hpp"

namespace pb {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

// -1 for anything that is not a hex digit of the accepted case.
constexpr int nibble(char c, bool allow_upper) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (allow_upper && c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool decode(std::string_view hex, std::span<std::uint8_t> out, bool allow_upper) {
  if (hex.size() != out.size() * 2) return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i], allow_upper);
    const int lo = nibble(hex[2 * i + 1], allow_upper);
    if ((hi | lo) < 0) return false;
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return true;
}

}  // namespace

void append_hex(std::string& out, std::span<const std::uint8_t> bytes) {
  const std::size_t start = out.size();
  out.resize(start + bytes.size() * 2);
  char* p = out.data() + start;
  for (std::uint8_t b : bytes) {
    *p++ = kDigits[b >> 4];
    *p++ = kDigits[b & 0xf];
  }
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  std::string s;
  append_hex(s, bytes);
  return s;
}

bool decode_lower_hex(std::string_view hex, std::span<std::uint8_t> out) { return decode(hex, out, false); }
bool decode_hex_any_case(std::string_view hex, std::span<std::uint8_t> out) { return decode(hex, out, true); }

}  // namespace pb
