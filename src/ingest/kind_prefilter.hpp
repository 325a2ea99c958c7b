// The cheap pre-parse drop of events whose kind is above 65535 (`--filter-invalid-kinds`).
//
// It scans the line once, tracking strings and nesting, and reads only the top-level "kind" value, so a
// "kind" inside content or tags can never cause a false drop. Anything it cannot decide is left to the
// full parser.
#pragma once

#include <string_view>

namespace pb {

// True when the line is a JSON object whose top-level "kind" is an integer literal above 65535.
bool kind_above_limit(std::string_view line);

}  // namespace pb
