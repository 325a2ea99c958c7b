#include "nostr/hex.hpp"

namespace pb {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

// Nibble values by character: -1 for anything that is not a hex digit of the accepted case. A table
// lookup per character instead of three range tests (ids, pubkeys and signatures of every event).
struct NibbleTable {
  signed char v[256];
  constexpr explicit NibbleTable(bool allow_upper) : v{} {
    for (int c = 0; c < 256; ++c) v[c] = -1;
    for (int c = '0'; c <= '9'; ++c) v[c] = static_cast<signed char>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c) v[c] = static_cast<signed char>(c - 'a' + 10);
    if (allow_upper)
      for (int c = 'A'; c <= 'F'; ++c) v[c] = static_cast<signed char>(c - 'A' + 10);
  }
};
constexpr NibbleTable kLower(false), kAnyCase(true);

bool decode(std::string_view hex, std::span<std::uint8_t> out, const NibbleTable& t) {
  if (hex.size() != out.size() * 2) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(hex.data());
  int bad = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = t.v[p[2 * i]], lo = t.v[p[2 * i + 1]];
    bad |= hi | lo;  // negative once any character was not a digit
    out[i] = static_cast<std::uint8_t>(((hi & 0xf) << 4) | (lo & 0xf));
  }
  return bad >= 0;
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

bool decode_lower_hex(std::string_view hex, std::span<std::uint8_t> out) { return decode(hex, out, kLower); }
bool decode_hex_any_case(std::string_view hex, std::span<std::uint8_t> out) { return decode(hex, out, kAnyCase); }

}  // namespace pb
