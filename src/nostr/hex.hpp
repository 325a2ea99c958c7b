// Lowercase hex encoding and strict decoding (NIP-01 ids, pubkeys and signatures are lowercase only).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace pb {

// Appends the lowercase hex form of `bytes` to `out`.
void append_hex(std::string& out, std::span<const std::uint8_t> bytes);
std::string to_hex(std::span<const std::uint8_t> bytes);

// Decodes exactly out.size()*2 lowercase hex characters. Returns false on wrong length or any other char.
bool decode_lower_hex(std::string_view hex, std::span<std::uint8_t> out);

// Like decode_lower_hex but accepts upper case too (for user input such as --ids, and test vectors).
bool decode_hex_any_case(std::string_view hex, std::span<std::uint8_t> out);

}  // namespace pb
