// GET /api/v1/events: one NIP-01 filter from a query string (comma-separated lists, `#x` tag keys) and the
// paging cursor.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nostr/filter.hpp"
#include "serve/query_engine.hpp"

namespace pb::serve {

struct QueryStringFilter {
  Filter filter;
  std::optional<ScanKey> cursor;
  std::optional<std::string> error;  // "invalid: ..." / "unsupported: ..."
};

QueryStringFilter filter_from_query(const std::vector<std::pair<std::string, std::string>>& query);

// "CREATED_AT:IDHEX" (the position of the last event of a page).
std::string cursor_text(const ScanKey& key);
std::optional<ScanKey> parse_cursor(std::string_view text);

}  // namespace pb::serve
