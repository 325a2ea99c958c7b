// The in-memory Nostr event (NIP-01). Binary fields hold raw bytes; hex appears only at the edges
// (JSON, protobuf, logs), so comparisons, hashing and index keys stay cheap.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace pb {

using Id32 = std::array<std::uint8_t, 32>;

// Hash for unordered containers of ids: ids are SHA-256 output, so their first 8 bytes are uniform.
struct Id32Hash {
  std::size_t operator()(const Id32& id) const noexcept {
    std::uint64_t v = 0;
    std::memcpy(&v, id.data(), sizeof v);
    return static_cast<std::size_t>(v);
  }
};
using Sig64 = std::array<std::uint8_t, 64>;
using Tag = std::vector<std::string>;

struct Event {
  Id32 id{};
  Id32 pubkey{};
  std::int64_t created_at = 0;  // unix seconds, >= 0
  std::int32_t kind = 0;        // 0..65535
  std::vector<Tag> tags;
  std::string content;          // valid UTF-8, may hold NUL
  Sig64 sig{};

  bool operator==(const Event&) const = default;
};

}  // namespace pb
