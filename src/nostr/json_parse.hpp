// Strict NIP-01 event parsing with simdjson.
//
// Rules (docs/validation.md has the full list): the seven fields present with the right JSON types,
// id/pubkey 64 and sig 128 lowercase hex, created_at a non-negative integer, kind an integer in 0..65535,
// tags an array of arrays of strings, content a string, all text valid UTF-8 (lone surrogate escapes are
// rejected). Unknown extra fields are ignored; a duplicated known field is rejected (ambiguous event).
#pragma once

#include <optional>
#include <string_view>

#include <simdjson.h>

#include "nostr/event.hpp"
#include "nostr/reject.hpp"

namespace pb {

class EventParser {
 public:
  EventParser() = default;
  EventParser(const EventParser&) = delete;
  EventParser& operator=(const EventParser&) = delete;

  // Parses one JSON text. On success fills `out` and returns nullopt; otherwise returns why not.
  // `out` is reused across calls to keep tag/content allocations warm.
  std::optional<Rejection> parse(std::string_view json, Event& out);

  // Whether the last parse() decoded a well-formed id into `out.id` (so a rejection can name it).
  bool id_parsed() const { return id_parsed_; }

 private:
  bool id_parsed_ = false;
  simdjson::dom::parser parser_;  // reused: its buffers grow to the largest event seen
};

}  // namespace pb
