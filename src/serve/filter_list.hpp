// Parsing the filters of a REQ / COUNT (the array elements after the subscription id) or of a REST body.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "nostr/filter.hpp"

namespace pb::serve {

struct FilterList {
  std::vector<Filter> filters;
  std::optional<std::string> error;  // "invalid: ..." / "unsupported: ..." when refused
};

// Elements [first, end) of `arr`, at most max_filters of them.
FilterList parse_filter_elements(simdjson::dom::array arr, std::size_t first, std::size_t max_filters);
// A JSON array of filters (the REST body).
FilterList parse_filter_array_json(simdjson::dom::parser& parser, std::string_view json, std::size_t max_filters);

}  // namespace pb::serve
