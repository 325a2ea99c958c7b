#include "serve/query_engine.hpp"

#include <algorithm>
#include <ctime>
#include <unordered_set>

#include "nostr/hex.hpp"
#include "serve/event_rules.hpp"

namespace pb::serve {
namespace {

constexpr std::size_t kMinPageRows = 16;
constexpr std::size_t kMaxPageRows = 1024;

struct IdHash {
  std::size_t operator()(const Id32& id) const {
    std::size_t h = 0;
    for (int i = 0; i < 8; ++i) h = (h << 8) | id[static_cast<std::size_t>(i)];
    return h;
  }
};

std::size_t page_rows_for(std::uint64_t wanted) {
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(wanted + 1, kMinPageRows, kMaxPageRows));
}

}  // namespace

IndexQuery to_index_query(const Filter& f) {
  IndexQuery q;
  if (f.ids) q.ids = *f.ids;
  if (f.authors) q.authors = *f.authors;
  if (f.kinds) q.kinds = *f.kinds;
  q.since = f.since;
  q.until = f.until;
  for (const auto& t : f.tags) q.tags.emplace_back(t.name, t.values);
  return q;
}

std::uint64_t QueryEngine::effective_limit(const Filter& f) const {
  const std::uint64_t want = f.limit ? static_cast<std::uint64_t>(*f.limit) : limits_.default_limit;
  return std::min(want, limits_.max_limit);
}

void QueryEngine::charge(std::size_t rows) {
  counters_.rows_examined += rows;
  if (counters_.rows_examined > limits_.work_budget_rows) throw BudgetExceeded();
}

// Keyset paging over (created_at DESC, id ASC) through ArchiveIndex::query: the next page asks for rows
// with created_at <= the last one seen, plus as many extra as the rows already seen at that second (a
// prefix of the page, since ties come in id order), and skips those.
bool QueryEngine::scan_page(const Filter& f, FilterScan& at, bool apply_rules, std::optional<std::int64_t> max_seq,
                            std::size_t page_rows, const EventVisitor& visit) {
  if (f.is_empty_set()) return false;
  IndexQuery q = to_index_query(f);
  while (true) {
    if (at.after) q.until = f.until ? std::min(*f.until, at.after->created_at) : at.after->created_at;
    if (q.since && q.until && *q.since > *q.until) return false;
    q.limit = page_rows + at.extra;
    const auto rows = index_.query(q);
    charge(rows.size());
    std::size_t start = 0;
    if (at.after)
      while (start < rows.size() && rows[start].created_at == at.after->created_at && rows[start].id <= at.after->id)
        ++start;
    const bool exhausted = rows.size() < *q.limit;
    if (start == rows.size()) {
      if (exhausted) return false;
      at.extra = at.extra * 2 + page_rows;  // a cursor inside a crowded second: look further
      continue;
    }
    if (!visit_rows(rows, start, f, apply_rules, max_seq, visit) || exhausted) return false;
    const IndexRow& tail = rows.back();
    at.extra = static_cast<std::uint64_t>(std::count_if(
        rows.begin(), rows.end(), [&](const IndexRow& r) { return r.created_at == tail.created_at; }));
    at.after = ScanKey{tail.created_at, tail.id};
    return true;
  }
}

void QueryEngine::scan(const Filter& f, std::optional<ScanKey> after, bool apply_rules,
                       std::optional<std::int64_t> max_seq, std::size_t page_rows, const EventVisitor& visit) {
  FilterScan at{after, 0, 0};
  while (scan_page(f, at, apply_rules, max_seq, page_rows, visit)) {
  }
}

bool QueryEngine::visit_rows(const std::vector<IndexRow>& rows, std::size_t start, const Filter& f, bool apply_rules,
                             std::optional<std::int64_t> max_seq, const EventVisitor& visit) {
  for (std::size_t i = start; i < rows.size(); ++i) {
    const IndexRow& row = rows[i];
    if (max_seq && row.seq > *max_seq) continue;  // committed after the snapshot: the live tail sends it
    const std::optional<Event> ev = load(row);
    if (!ev || !f.matches(*ev)) continue;
    if (apply_rules && !served(*ev)) continue;
    if (!visit(*ev)) return false;
  }
  return true;
}

std::optional<Event> QueryEngine::load(const IndexRow& row) {
  if (auto ev = cache_.get(row.file_name, row.member_offset)->find(row.id)) return ev;
  const auto fresh = index_.get(row.id);
  if (!fresh) return std::nullopt;
  cache_.forget(row.file_name, row.member_offset);
  cache_.forget(fresh->file_name, fresh->member_offset);
  return cache_.get(fresh->file_name, fresh->member_offset)->find(row.id);
}

bool QueryEngine::any_match(const Filter& f, const std::function<bool(const Event&)>& accept) {
  bool found = false;
  scan(f, std::nullopt, false, std::nullopt, kMinPageRows, [&](const Event& ev) {
    found = accept(ev);
    return !found;
  });
  return found;
}

bool QueryEngine::served(const Event& ev) {
  if (limits_.history) return true;
  if (expired(ev, static_cast<std::int64_t>(std::time(nullptr)))) return false;
  const auto address = address_of(ev);
  if (ev.kind != 5) {
    Filter del;
    del.authors = std::vector<Id32>{ev.pubkey};
    del.kinds = std::vector<std::int32_t>{5};
    del.tags = {TagCondition{'e', {to_hex(ev.id)}}};
    if (any_match(del, [](const Event&) { return true; })) return false;
    if (address) {
      del.tags = {TagCondition{'a', {*address}}};
      del.since = ev.created_at;
      if (any_match(del, [](const Event&) { return true; })) return false;
    }
  }
  if (!address) return true;
  // The latest version of this address across the archive (ties: lowest id) is the one served.
  Filter versions;
  versions.authors = std::vector<Id32>{ev.pubkey};
  versions.kinds = std::vector<std::int32_t>{ev.kind};
  const std::string d = d_tag(ev);
  if (is_addressable(ev.kind) && !d.empty()) versions.tags = {TagCondition{'d', {d}}};
  bool latest = false;
  any_match(versions, [&](const Event& v) {
    if (is_addressable(ev.kind) && d_tag(v) != d) return false;
    latest = v.id == ev.id;
    return true;
  });
  return latest;
}

std::vector<Event> QueryEngine::req(std::span<const Filter> filters, std::optional<std::int64_t> max_seq) {
  ReqProgress progress;
  progress.max_seq = max_seq;
  while (!req_step(filters, progress, std::chrono::steady_clock::time_point::max())) {
  }
  return std::move(progress.events);
}

bool QueryEngine::req_step(std::span<const Filter> filters, ReqProgress& p,
                           std::chrono::steady_clock::time_point deadline) {
  p.scans.resize(filters.size());
  counters_.rows_examined = p.rows_examined;
  for (; p.next_filter < filters.size(); ++p.next_filter) {
    const Filter& f = filters[p.next_filter];
    FilterScan& at = p.scans[p.next_filter];
    const std::uint64_t limit = effective_limit(f);
    if (limit == 0) continue;
    const auto collect = [&](const Event& ev) {
      p.events.push_back(ev);
      return ++at.served < limit;
    };
    while (scan_page(f, at, !limits_.history, p.max_seq, page_rows_for(limit), collect)) {
      if (std::chrono::steady_clock::now() >= deadline) {
        p.rows_examined = counters_.rows_examined;
        return false;
      }
    }
  }
  p.rows_examined = counters_.rows_examined;
  std::sort(p.events.begin(), p.events.end(), nip01_before);
  p.events.erase(std::unique(p.events.begin(), p.events.end(),
                             [](const Event& a, const Event& b) { return a.id == b.id; }),
                 p.events.end());
  counters_.events_served += p.events.size();
  return true;
}

std::vector<Event> QueryEngine::page(const Filter& f, std::uint64_t limit, std::optional<ScanKey> after) {
  std::vector<Event> out;
  if (limit == 0) return out;
  scan(f, after, !limits_.history, std::nullopt, page_rows_for(limit), [&](const Event& ev) {
    out.push_back(ev);
    return out.size() < limit;
  });
  counters_.events_served += out.size();
  return out;
}

std::uint64_t QueryEngine::count(std::span<const Filter> filters) {
  // From the index alone when nothing is hidden: one filter is one SQL count; several are the union of
  // their matching ids (an event matching two filters counts once). No member is decoded.
  if (limits_.history && filters.size() == 1) {
    if (filters[0].is_empty_set()) return 0;
    charge(1);
    return index_.count(to_index_query(filters[0]));
  }
  std::unordered_set<Id32, IdHash> seen;
  if (limits_.history) {
    for (const Filter& f : filters) {
      if (f.is_empty_set()) continue;
      if (index_.count(to_index_query(f)) + counters_.rows_examined > limits_.work_budget_rows) throw BudgetExceeded();
      const auto rows = index_.query(to_index_query(f));
      charge(rows.size());
      for (const IndexRow& row : rows) seen.insert(row.id);
    }
    return seen.size();
  }
  for (const Filter& f : filters) {
    scan(f, std::nullopt, !limits_.history, std::nullopt, kMaxPageRows, [&](const Event& ev) {
      seen.insert(ev.id);
      return true;
    });
  }
  return seen.size();
}

}  // namespace pb::serve
