// Why an input line was rejected. Every rejection carries one category (counted in summaries) and a
// message that names the field (written to the log).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace pb {

enum class RejectCategory : std::uint8_t {
  invalid_json,       // not a JSON object, malformed JSON, invalid UTF-8 bytes
  invalid_field,      // a required field missing, of the wrong type, or malformed (hex, created_at, ...)
  invalid_tag_value,  // tags not an array of arrays of strings
  invalid_kind,       // kind an integer outside 0..65535
  invalid_event_id,   // id does not equal sha256 of the canonical serialization
  invalid_signature,  // BIP-340 signature does not verify against the id
};

inline constexpr std::size_t kRejectCategoryCount = 6;

constexpr std::string_view category_name(RejectCategory c) {
  constexpr std::array<std::string_view, kRejectCategoryCount> names = {
      "invalid_json", "invalid_field", "invalid_tag_value", "invalid_kind", "invalid_event_id",
      "invalid_signature"};
  return names[static_cast<std::size_t>(c)];
}

struct Rejection {
  RejectCategory category;
  std::string message;
};

}  // namespace pb
