#include "archive/index_query_sql.hpp"

#include <fmt/format.h>

namespace pb {
namespace {

struct List {
  const char* column;
  std::size_t first;  // parameter number of its first value
  std::size_t n;
};

std::string param(std::size_t n) { return fmt::format("?{}", n); }

}  // namespace

std::string index_query_sql(const IndexQueryShape& q, const char* columns, std::size_t max_branches) {
  const List ids{"id", 1, q.ids};
  const List authors{"pubkey", ids.first + ids.n, q.authors};
  const List kinds{"kind", authors.first + authors.n, q.kinds};
  std::size_t next = kinds.first + kinds.n;
  const std::size_t since_p = q.since ? next++ : 0;
  const std::size_t until_p = q.until ? next++ : 0;
  const std::size_t limit_p = q.limit ? next++ : 0;
  // Each tag condition: the events whose seq the tag index lists under (name, any value), within the
  // time bounds (the tag rows carry created_at so the range narrows the index scan).
  std::string tag_sql;
  for (const std::size_t n : q.tag_values) {
    tag_sql += " AND seq IN (SELECT seq FROM tags WHERE name = " + param(next++) + " AND value IN (";
    for (std::size_t i = 0; i < n; ++i) {
      if (i) tag_sql += ',';
      tag_sql += param(next++);
    }
    tag_sql += ")";
    if (q.since) tag_sql += " AND created_at >= " + param(since_p);
    if (q.until) tag_sql += " AND created_at <= " + param(until_p);
    tag_sql += ")";
  }

  // With a limit and several authors (or kinds, when no authors are given), IN over the leading column of
  // (pubkey, created_at) or (kind, created_at) makes SQLite read and sort every match before limiting
  // (kinds 1,7 LIMIT 100 took 2 s at 1M rows). One branch per value, each reading that value's newest
  // rows in index order and stopping at the limit, then a merge of the branches, took 2 ms.
  // With a tag condition (and no ids), the tag index drives: tag values are ids, pubkeys, hashtags, d
  // identifiers — nearly always far more selective than an author's or a kind's rows. Without statistics
  // SQLite picked (kind, created_at) instead, so a deletion check (kind 5, author, #e = one id) walked
  // every kind-5 row. A unary + keeps the other columns' indexes out of the plan; events are then fetched
  // by seq (rowid) and sorted.
  // With authors and kinds (and no tag condition), the authors drive: for one author and kind 0 SQLite
  // walked all 40k kind-0 rows of a 1M archive (an author has hundreds of events, a kind tens of
  // thousands), so kind gets the unary + too.
  const bool tag_driven = !q.tag_values.empty() && q.ids == 0;
  const List* split = nullptr;
  if (q.limit && q.ids == 0 && !q.count && !tag_driven) {
    if (q.authors > 1)
      split = &authors;
    else if (q.authors == 0 && q.kinds > 1)
      split = &kinds;
    if (split && split->n > max_branches) split = nullptr;  // fall back to one IN (correct, just slower)
  }

  // NIP-01 order: newest first, ties broken by the lexically lowest id.
  const std::string order = " ORDER BY created_at DESC, id ASC";
  auto select = [&](std::size_t split_value) {
    std::string sql = std::string("SELECT ") + (q.count ? "count(*)" : columns) + " FROM events WHERE 1";
    for (const List* l : {&ids, &authors, &kinds}) {
      if (l->n == 0) continue;
      sql += " AND ";
      if (tag_driven || (l == &kinds && q.authors > 0)) sql += '+';
      sql += l->column;
      if (l == split) {
        sql += " = " + param(split_value);
        continue;
      }
      sql += " IN (";
      for (std::size_t i = 0; i < l->n; ++i) {
        if (i) sql += ',';
        sql += param(l->first + i);
      }
      sql += ')';
    }
    const char* created_at = tag_driven ? "+created_at" : "created_at";
    if (q.since) sql += fmt::format(" AND {} >= {}", created_at, param(since_p));
    if (q.until) sql += fmt::format(" AND {} <= {}", created_at, param(until_p));
    sql += tag_sql;
    if (q.count) return sql;
    sql += order;
    if (q.limit) sql += " LIMIT " + param(limit_p);
    return sql;
  };

  if (!split) return select(0);
  std::string sql;
  for (std::size_t i = 0; i < split->n; ++i) {
    if (i) sql += " UNION ALL ";
    sql += "SELECT * FROM (" + select(split->first + i) + ")";
  }
  return sql + order + " LIMIT " + param(limit_p);
}

}  // namespace pb
