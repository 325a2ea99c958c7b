// A relay's NIP-11 information document, reduced to what the daemon uses, and the page size it implies.
// Parsing is defensive: the document comes from any relay on the network. Pure, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pb::daemon {

inline constexpr std::size_t kMaxInfoBytes = 64 * 1024;  // a bigger document is treated as absent
inline constexpr std::size_t kMaxInfoText = 128;         // name and software are cut to this many bytes

struct RelayInfo {
  std::string name;                       // "" when absent or not a string
  std::string software;
  std::optional<std::uint64_t> max_limit; // limitation.max_limit: a positive integer, else absent
  bool auth_required = false;             // limitation.auth_required is true
  bool payment_required = false;          // limitation.payment_required is true
};

// The document, or nothing when it is not a JSON object (or over kMaxInfoBytes). Fields of the wrong type
// are ignored one by one (a relay that writes "max_limit": "500" still gets its name shown); max_limit
// must be an integer in [1, 2^63); anything else (0, negative, fractional, huge) counts as absent.
std::optional<RelayInfo> parse_relay_info(std::string_view body);

// The `limit` of a relay's history REQs: --page-size, or the relay's max_limit when that is lower (a page
// of max_limit events is then a full page, so paging goes on instead of stopping at the relay's cap).
std::uint64_t clamp_page_size(std::uint64_t page_size, const std::optional<std::uint64_t>& max_limit);

}  // namespace pb::daemon
