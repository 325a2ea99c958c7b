// NIP-01 filters: parsed from the JSON a client sends in REQ/COUNT (or a daemon's own configuration),
// matched against events, and written back as JSON (the daemon's REQ). No I/O.
//
// Semantics (the same as nostr-tools' matchFilter, our test oracle):
//  - every condition present must hold (AND); a list holds when the event's value is in it, so an empty
//    list matches nothing; `since` <= created_at <= `until` (both inclusive);
//  - `#x` (x a single ASCII letter) holds when some tag has name x and first value in the list;
//  - ids and authors are exact 64-char lowercase hex (no prefixes), kinds integers in 0..65535;
//  - `limit` is kept for the caller (it orders and cuts results; matching ignores it).
// Several filters (one REQ) match an event when any of them does (OR).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "nostr/event.hpp"
#include "nostr/event_head.hpp"

namespace pb {

// A `#x` condition: tag name x (one letter), the wanted first values (sorted, unique).
struct TagCondition {
  char name = 0;
  std::vector<std::string> values;
  bool operator==(const TagCondition&) const = default;
};

struct Filter {
  std::optional<std::vector<Id32>> ids;              // sorted, unique
  std::optional<std::vector<Id32>> authors;          // sorted, unique
  std::optional<std::vector<std::int32_t>> kinds;    // sorted, unique
  std::vector<TagCondition> tags;                    // sorted by name, one per name
  std::optional<std::int64_t> since;
  std::optional<std::int64_t> until;
  std::optional<std::int64_t> limit;                 // >= 0

  bool operator==(const Filter&) const = default;

  // Whether the event satisfies every condition (limit aside).
  bool matches(const Event& ev) const;
  // The same on an event's head (nothing a filter tests is missing from it).
  bool matches(const EventHead& ev) const;

  // True when no event can match (an empty list, or since > until).
  bool is_empty_set() const;

  // Compact JSON, keys in a fixed order: ids, authors, kinds, #a..#z/#A..#Z, since, until, limit.
  std::string to_json() const;
};

// Why a filter was refused, in the words a relay sends in CLOSED: `unsupported` for valid JSON we do not
// implement (unknown keys, multi-letter tag keys), `invalid` for anything malformed.
struct FilterError {
  enum class Kind { invalid, unsupported } kind = Kind::invalid;
  std::string message;  // without the "invalid: " / "unsupported: " prefix

  // "invalid: ..." or "unsupported: ..." (NIP-01 machine-readable prefix).
  std::string with_prefix() const;
};

// Either a filter or the reason it was refused.
struct FilterParse {
  std::optional<Filter> filter;
  std::optional<FilterError> error;
};

// Parses one filter object. Integers must be JSON integers (1.0 is refused, like events' fields).
FilterParse parse_filter(simdjson::dom::element json);

// Parses one filter from JSON text (a convenience for tests, configuration and the REST API).
FilterParse parse_filter_json(std::string_view json);

// Whether any of the filters matches the event.
bool matches_any(std::span<const Filter> filters, const Event& ev);

}  // namespace pb
