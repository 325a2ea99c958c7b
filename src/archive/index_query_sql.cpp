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

// "?a,?b,…": n parameters numbered from `next` on (advanced past them).
std::string params(std::size_t& next, std::size_t n) {
  std::string sql;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) sql += ',';
    sql += param(next++);
  }
  return sql;
}

// "?first,…" (each through `value`) for a list whose parameters are already numbered: a list is bound
// once and may be used in several places.
std::string list_params(const List& l, std::string (*value)(std::size_t) = param) {
  std::string sql;
  for (std::size_t i = 0; i < l.n; ++i) {
    if (i) sql += ',';
    sql += value(l.first + i);
  }
  return sql;
}

}  // namespace

bool tag_walk_fits(const IndexQueryShape& q) {
  return q.limit && !q.count && q.ids == 0 && q.tag_values.size() == 1 && q.tag_values[0] > 0;
}

std::string tag_walk_sql(const IndexQueryShape& q, const char* columns) {
  std::size_t next = 3;
  // tags.created_at is the event's: the B-tree (part, key, created_at, seq) yields the rows newest
  // first, and only ties within a second are sorted by id, so the walk stops at the limit. CROSS JOIN
  // keeps tags outside; the unary + keeps the events indexes out.
  std::string sql = fmt::format(
      "SELECT {} FROM tags CROSS JOIN events ON events.seq = tags.seq WHERE tags.part = ?1 AND tags.key = ?2",
      columns);
  if (q.authors == 1) {
    sql += " AND +events.aid = (SELECT aid FROM authors WHERE pubkey = " + param(next++) + ")";
  } else if (q.authors > 1) {
    sql += " AND +events.aid IN (SELECT aid FROM authors WHERE pubkey IN (" + params(next, q.authors) + "))";
  }
  // The tag row's kind (version 5): rows of other kinds are skipped before their event row is read.
  if (q.kinds) sql += " AND tags.kind IN (" + params(next, q.kinds) + ")";
  if (q.since) sql += " AND tags.created_at >= " + param(next++);
  if (q.until) sql += " AND tags.created_at <= " + param(next++);
  return sql + " ORDER BY tags.created_at DESC, events.id ASC LIMIT " + param(next);
}

std::string index_query_sql(const IndexQueryShape& q, const char* columns, const char* from,
                            std::size_t max_branches) {
  const List ids{"events.id", 1, q.ids};
  const List authors{"events.aid", ids.first + ids.n, q.authors};
  const List kinds{"events.kind", authors.first + authors.n, q.kinds};
  std::size_t next = kinds.first + kinds.n;
  const std::size_t since_p = q.since ? next++ : 0;
  const std::size_t until_p = q.until ? next++ : 0;
  const std::size_t limit_p = q.limit ? next++ : 0;
  // Each tag condition: the events whose seq the tag index lists under any of the value keys, within the
  // time bounds (the tag rows carry created_at so the range narrows the index scan). The tags B-tree leads
  // with the part (seq >> kTagPartBits), so the values are looked up in each part from 0 to the newest:
  // one seek per part and value, the parts listed by a recursive CTE walked first (CROSS JOIN keeps that
  // order; without it SQLite may scan all of tags).
  const std::string parts = fmt::format(
      "WITH RECURSIVE parts(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM parts "
      "WHERE n < (SELECT coalesce(max(seq), 0) FROM events) >> {}) ",
      kTagPartBits);
  std::string tag_sql;
  for (const std::size_t n : q.tag_values) {
    tag_sql += " AND events.seq IN (" + parts +
               "SELECT tags.seq FROM parts CROSS JOIN tags WHERE tags.part = parts.n AND tags.key IN (";
    for (std::size_t i = 0; i < n; ++i) {
      if (i) tag_sql += ',';
      tag_sql += param(next++);
    }
    tag_sql += ")";
    if (kinds.n) tag_sql += " AND tags.kind IN (" + list_params(kinds) + ")";
    if (q.since) tag_sql += " AND tags.created_at >= " + param(since_p);
    if (q.until) tag_sql += " AND tags.created_at <= " + param(until_p);
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
  // Ids go through events_id, the index on their first 8 bytes; authors through their integer ids.
  auto select = [&](std::size_t split_value) {
    std::string sql = std::string("SELECT ") + (q.count ? "count(*)" : columns) + " FROM " +
                      (q.count ? "events" : from) + " WHERE 1";
    if (ids.n) {
      sql += " AND substr(events.id, 1, 8) IN (" +
             list_params(ids, [](std::size_t p) { return "substr(" + param(p) + ", 1, 8)"; }) + ")";
      sql += " AND events.id IN (" + list_params(ids) + ")";
    }
    for (const List* l : {&authors, &kinds}) {
      if (l->n == 0) continue;
      sql += " AND ";
      if (tag_driven || (l == &kinds && q.authors > 0)) sql += '+';
      sql += l->column;
      const bool by_author = l == &authors;
      // One author as a scalar subquery: with `IN (SELECT ...)` SQLite cannot tell there is one value,
      // and sorts all the author's rows instead of reading them in index order up to the limit.
      if (l == split || (by_author && l->n == 1)) {
        const std::size_t p = l == split ? split_value : l->first;
        sql += by_author ? " = (SELECT aid FROM authors WHERE pubkey = " + param(p) + ")" : " = " + param(p);
        continue;
      }
      sql += by_author ? " IN (SELECT aid FROM authors WHERE pubkey IN (" + list_params(*l) + "))"
                       : " IN (" + list_params(*l) + ")";
    }
    const char* created_at = tag_driven ? "+events.created_at" : "events.created_at";
    if (q.since) sql += fmt::format(" AND {} >= {}", created_at, param(since_p));
    if (q.until) sql += fmt::format(" AND {} <= {}", created_at, param(until_p));
    sql += tag_sql;
    if (q.count) return sql;
    sql += " ORDER BY events.created_at DESC, events.id ASC";
    if (q.limit) sql += " LIMIT " + param(limit_p);
    return sql;
  };

  if (!split) return select(0);
  std::string sql;
  for (std::size_t i = 0; i < split->n; ++i) {
    if (i) sql += " UNION ALL ";
    sql += "SELECT * FROM (" + select(split->first + i) + ")";
  }
  // The merge orders by the branches' result columns.
  return sql + " ORDER BY created_at DESC, id ASC LIMIT " + param(limit_p);
}

}  // namespace pb
