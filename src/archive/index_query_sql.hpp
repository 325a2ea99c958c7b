// The SQL text of ArchiveIndex::query() for one shape of query: which constraints are present and how
// many values each list has. Values are always bound, never spliced into the text; parameters are
// numbered in bind order (ids, authors, kinds, since, until, limit, then each tag condition's value keys,
// IndexTag::key). Schema: index.cpp (version 4).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace pb {

// Tag rows are grouped by the slice of 2^20 events (seq >> kTagPartBits) they belong to, so a writer's
// new rows land in the newest slice's part of the tags B-tree instead of all over it (index.cpp).
inline constexpr int kTagPartBits = 20;

struct IndexQueryShape {
  std::size_t ids = 0;
  std::size_t authors = 0;
  std::size_t kinds = 0;
  bool since = false;
  bool until = false;
  bool limit = false;
  std::vector<std::size_t> tag_values;  // per tag condition: how many values
  bool count = false;                   // SELECT count(*) of the matches (limit and order ignored)
  bool expiration = false;              // the rows' columns include the expiration (IndexQuery::with_expiration)
};

// `columns` is the select list over `from` (events and the tables joined to it; a count reads events
// alone); `max_branches` SQLite's compound-select limit. Results come in NIP-01 order: newest created_at
// first, ties by the lowest id.
std::string index_query_sql(const IndexQueryShape& shape, const char* columns, const char* from,
                            std::size_t max_branches);

// A limited query with one tag condition and no ids can instead walk the tags B-tree one (part, value
// key) at a time, newest first: each walk reads rows only until its limit is served, where the query above
// gathers and sorts every row of the tag (a pubkey mentioned 124k times, for 500 reactions). The caller
// merges the walks (tag_walk_fits()).
bool tag_walk_fits(const IndexQueryShape& shape);
// One walk: parameters ?1 the part, ?2 the value's key, then authors, kinds, since, until, limit in
// index_query_sql()'s order. Results in NIP-01 order.
std::string tag_walk_sql(const IndexQueryShape& shape, const char* columns);

}  // namespace pb
