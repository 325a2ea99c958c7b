#include "serve/query_engine.hpp"

#include <algorithm>
#include <ctime>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "archive/proto_codec.hpp"
#include "nostr/hex.hpp"
#include "serve/event_rules.hpp"

namespace pb::serve {
namespace {

constexpr std::size_t kMinPageRows = 16;
constexpr std::size_t kMaxPageRows = 1024;
constexpr std::uint64_t kMaxReserveEvents = 1 << 17;  // ~26 MB of Event: a broad answer grows past it

std::size_t page_rows_for(std::uint64_t wanted) {
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(wanted + 1, kMinPageRows, kMaxPageRows));
}

ServedEvent served_event(const RecordView& ev, const TextFrame& frame) {
  ServedEvent out{ev.head.created_at, ev.head.id, {}};
  out.text.reserve(frame.before.size() + record_json_size_hint(ev) + frame.after.size());
  out.text += frame.before;
  append_record_json(out.text, ev);
  out.text += frame.after;
  return out;
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

std::uint64_t effective_limit(const Filter& f, const QueryLimits& limits) {
  const std::uint64_t want = f.limit ? static_cast<std::uint64_t>(*f.limit) : limits.default_limit;
  return std::min(want, limits.max_limit);
}

std::uint64_t max_answer_events(std::span<const Filter> filters, const QueryLimits& limits) {
  std::uint64_t n = 0;
  for (const auto& f : filters)
    n += f.ids ? std::min<std::uint64_t>(f.ids->size(), effective_limit(f, limits)) : effective_limit(f, limits);
  return n;
}

std::uint64_t QueryEngine::effective_limit(const Filter& f) const { return serve::effective_limit(f, limits_); }

void QueryEngine::charge(std::size_t rows) {
  counters_.rows_examined += rows;
  if (counters_.rows_examined > limits_.work_budget_rows) throw BudgetExceeded();
}

// Keyset paging over (created_at DESC, id ASC) through ArchiveIndex::query: the next page asks for rows
// with created_at <= the last one seen, plus as many extra as the rows already seen at that second (a
// prefix of the page, since ties come in id order), and skips those.
bool QueryEngine::fetch_page(const Filter& f, FilterScan& at, std::size_t page_rows) {
  IndexQuery q = to_index_query(f);
  while (true) {
    if (at.after) q.until = f.until ? std::min(*f.until, at.after->created_at) : at.after->created_at;
    if (q.since && q.until && *q.since > *q.until) return false;
    q.limit = page_rows + at.extra;
    q.with_expiration = at.with_expiration;
    at.page = index_.query(q);
    charge(at.page.size());
    at.next = 0;
    if (at.after)
      while (at.next < at.page.size() && at.page[at.next].created_at == at.after->created_at &&
             at.page[at.next].id <= at.after->id)
        ++at.next;
    at.last_page = at.page.size() < *q.limit;
    if (at.next < at.page.size()) break;
    if (at.last_page) return false;
    at.extra = at.extra * 2 + page_rows;  // a cursor inside a crowded second: look further
  }
  const IndexRow& tail = at.page.back();
  at.extra = static_cast<std::uint64_t>(std::count_if(
      at.page.begin(), at.page.end(), [&](const IndexRow& r) { return r.created_at == tail.created_at; }));
  at.after = ScanKey{tail.created_at, tail.id};
  return true;
}

bool QueryEngine::scan_page(const Filter& f, FilterScan& at, std::size_t page_rows, const RowVisitor& visit,
                            std::chrono::steady_clock::time_point deadline) {
  if (f.is_empty_set()) return false;
  if (at.next >= at.page.size() && (at.last_page || !fetch_page(f, at, page_rows))) return false;
  // The clock is read every few rows: a slice ends inside the page once its time is up.
  constexpr std::size_t kRowsPerClockCheck = 16;
  for (std::size_t visited = 1; at.next < at.page.size(); ++visited) {
    if (!visit(at.page[at.next++])) return false;
    if (visited % kRowsPerClockCheck == 0 && at.next < at.page.size() && std::chrono::steady_clock::now() >= deadline)
      return true;
  }
  return !at.last_page;
}

QueryEngine::RowVisitor QueryEngine::event_visitor(const Filter& f, bool apply_rules,
                                                   std::optional<std::int64_t> max_seq, LoadedRecord& loaded,
                                                   const EventVisitor& visit) {
  return [this, &f, apply_rules, max_seq, &loaded, &visit](const IndexRow& row) {
    return !visit_row(row, f, apply_rules, max_seq, loaded) || visit(loaded.view);
  };
}

void QueryEngine::scan(const Filter& f, std::optional<ScanKey> after, bool apply_rules,
                       std::optional<std::int64_t> max_seq, std::size_t page_rows, const EventVisitor& visit) {
  FilterScan at;
  at.after = after;
  LoadedRecord loaded;
  const RowVisitor rows = event_visitor(f, apply_rules, max_seq, loaded, visit);
  while (scan_page(f, at, page_rows, rows)) {
  }
}

bool QueryEngine::scan_slice(const Filter& f, FilterScan& at, std::size_t page_rows, const RowVisitor& visit,
                             std::chrono::steady_clock::time_point deadline) {
  while (scan_page(f, at, page_rows, visit, deadline))
    if (std::chrono::steady_clock::now() >= deadline) return false;
  return true;
}

bool QueryEngine::visit_row(const IndexRow& row, const Filter& f, bool apply_rules,
                            std::optional<std::int64_t> max_seq, LoadedRecord& loaded) {
  if (max_seq && row.seq > *max_seq) return false;  // committed after the snapshot: the live tail sends it
  // The rules that need only the row run before the member is inflated: a profile query's older
  // versions and deleted events cost an index look-up, not a decode.
  if (apply_rules && !row_served(StoredKey{row.id, row.pubkey, row.kind, row.created_at})) return false;
  if (!load_record(row, loaded) || read_record(loaded.record, loaded.view)) return false;
  if (!f.matches(loaded.view.head)) return false;
  // (event_served may scan other versions: it uses its own LoadedRecord, so `loaded` stays as it is.)
  return !apply_rules || event_served(loaded.view.head);
}

// A COUNT's test of one row: the same rules as visit_row() without the event, except for addressable
// kinds. Like --history's count, it trusts the tag index's keys (exact up to a 2^-56 key collision).
bool QueryEngine::counted_from_index(const IndexRow& row, const Filter& f, std::optional<std::int64_t> max_seq,
                                     std::int64_t now, LoadedRecord& loaded) {
  if (is_addressable(row.kind)) return visit_row(row, f, true, max_seq, loaded);
  if (max_seq && row.seq > *max_seq) return false;
  if (!row_served(StoredKey{row.id, row.pubkey, row.kind, row.created_at})) return false;
  return !row.expiration || *row.expiration > now;
}

std::optional<Event> QueryEngine::load(const IndexRow& row) {
  LoadedRecord loaded;
  Event ev;
  if (!load_record(row, loaded) || decode_proto_event(loaded.record, ev)) return std::nullopt;
  return ev;
}

bool QueryEngine::load_record(const IndexRow& row, LoadedRecord& into) {
  bool missed = false;
  if (!into.holds(row)) {
    if (cache_.events().get(row.id, into.copy)) {
      into.record = into.copy;
      return true;
    }
    into.member = cache_.get(row.file_name, row.member_offset, &missed);
    into.file_name = row.file_name;  // reuses the string's room
    into.offset = row.member_offset;
  }
  if (const auto rec = into.member->record(row.id)) {
    into.record = *rec;
    if (missed) cache_.events().offer(row.id, *rec);
    return true;
  }
  const auto fresh = index_.get(row.id);
  if (!fresh) return false;
  cache_.forget(row.file_name, row.member_offset);
  cache_.forget(fresh->file_name, fresh->member_offset);
  into.member = cache_.get(fresh->file_name, fresh->member_offset);
  into.file_name = fresh->file_name;
  into.offset = fresh->member_offset;
  const auto rec = into.member->record(row.id);
  if (!rec) return false;
  into.record = *rec;
  return true;
}

bool QueryEngine::served(const Event& ev) {
  if (limits_.history) return true;
  latest_.clear();  // called for events committed since the last call: a newer version may have come
  sync_deletions();
  head_of(ev, head_);
  return row_served(StoredKey{ev.id, ev.pubkey, ev.kind, ev.created_at}) && event_served(head_);
}

// The index answers filters exactly (the tag index holds every tag's first value), so these checks are
// SQL counts and look-ups; only an addressable event's d tag needs the event itself.
bool QueryEngine::deleted(const StoredKey& k, const std::optional<std::string>& address) {
  if (k.kind == 5) return false;
  if (use_deletions_) {
    hex_.clear();
    append_hex(hex_, k.id);
    if (!deletion_view_.may_target(index_tag('e', hex_, hasher_)) &&
        (!address || !deletion_view_.may_target(index_tag('a', *address, hasher_)))) {
      ++cleared_;
      return false;
    }
  }
  IndexQuery del;
  del.authors = {k.pubkey};
  del.kinds = {5};
  del.tags = {{'e', {to_hex(k.id)}}};
  charge(1);
  if (index_.count(del) > 0) return true;
  if (!address) return false;
  del.tags = {{'a', {*address}}};
  del.since = k.created_at;
  return index_.count(del) > 0;
}

void QueryEngine::sync_deletions() {
  use_deletions_ = false;
  // Counted here, once per call or slice, not per event: a shared counter is a contended cache line.
  if (cleared_ != 0) deletions_->count_cleared(std::exchange(cleared_, 0));
  if (!deletions_ || limits_.history || deletions_->covered() < 0) return;
  const std::int64_t last = index_.last_seq();
  use_deletions_ = deletions_->catch_up(index_, last, [this](const IndexRow& row) { return load(row); });
  if (use_deletions_) deletion_view_ = deletions_->snapshot();
}

bool QueryEngine::row_served(const StoredKey& k) {
  if (limits_.history) return true;
  if (is_addressable(k.kind)) return !deleted(k, std::nullopt);  // the address needs the d tag: event_served
  std::optional<std::string> address;
  if (is_replaceable(k.kind)) address = fmt::format("{}:{}:", k.kind, to_hex(k.pubkey));
  if (deleted(k, address)) return false;
  return !address || latest_version(*address, k, "") == k.id;
}

bool QueryEngine::event_served(const EventHead& ev) {
  if (limits_.history) return true;
  if (expired(ev, static_cast<std::int64_t>(std::time(nullptr)))) return false;
  if (!is_addressable(ev.kind)) return true;
  const auto address = address_of(ev);
  const StoredKey k{ev.id, ev.pubkey, ev.kind, ev.created_at};
  return !deleted(k, address) && latest_version(*address, k, d_tag(ev)) == ev.id;
}

// The id served for an address: its newest version (ties: the lowest id), remembered for the rest of
// the call. Addressable versions come from the tag index by d value and are confirmed on the event,
// since the index also lists a second d tag's value.
Id32 QueryEngine::latest_version(const std::string& address, const StoredKey& k, std::string_view d) {
  if (const auto it = latest_.find(address); it != latest_.end()) return it->second;
  Id32 latest = k.id;
  if (!is_addressable(k.kind)) {
    IndexQuery versions;
    versions.authors = {k.pubkey};
    versions.kinds = {k.kind};
    versions.limit = 1;
    const auto rows = index_.query(versions);
    charge(rows.size());
    if (!rows.empty()) latest = rows.front().id;
  } else {
    // The filter scan with the rules off: each version is decoded anyway to confirm its d tag.
    Filter versions;
    versions.authors = std::vector<Id32>{k.pubkey};
    versions.kinds = std::vector<std::int32_t>{k.kind};
    if (!d.empty()) versions.tags = {TagCondition{'d', {std::string(d)}}};
    scan(versions, std::nullopt, false, std::nullopt, kMinPageRows, [&](const RecordView& v) {
      if (d_tag(v.head) != d) return true;
      latest = v.head.id;
      return false;
    });
  }
  latest_.emplace(address, latest);
  return latest;
}

std::vector<ServedEvent> QueryEngine::req(std::span<const Filter> filters, std::optional<std::int64_t> max_seq) {
  ReqProgress progress;
  progress.max_seq = max_seq;
  while (!req_step(filters, progress, std::chrono::steady_clock::time_point::max())) {
  }
  return std::move(progress.events);
}

bool QueryEngine::req_step(std::span<const Filter> filters, ReqProgress& p,
                           std::chrono::steady_clock::time_point deadline) {
  p.scans.resize(filters.size());
  latest_.clear();  // remembered versions are valid within one slice
  sync_deletions();
  counters_.rows_examined = p.rows_examined;
  if (p.next_filter == 0 && p.events.empty()) {
    // Sized once for the limits (growing a 100k-event answer moved it ~17 times, into fresh pages).
    std::uint64_t room = 0;
    for (const Filter& f : filters) room += effective_limit(f);
    p.events.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(room, kMaxReserveEvents)));
  }
  LoadedRecord loaded;
  for (; p.next_filter < filters.size(); ++p.next_filter) {
    const Filter& f = filters[p.next_filter];
    FilterScan& at = p.scans[p.next_filter];
    const std::uint64_t limit = effective_limit(f);
    if (limit == 0) continue;
    const auto collect = [&](const RecordView& ev) {
      p.events.push_back(served_event(ev, p.frame));
      return ++at.served < limit;
    };
    if (!scan_slice(f, at, page_rows_for(limit), event_visitor(f, !limits_.history, p.max_seq, loaded, collect),
                    deadline)) {
      p.rows_examined = counters_.rows_examined;
      return false;
    }
  }
  p.rows_examined = counters_.rows_examined;
  // One filter's events come in NIP-01 order already: checking is cheaper than sorting 100k events.
  if (!std::is_sorted(p.events.begin(), p.events.end(), nip01_before))
    std::sort(p.events.begin(), p.events.end(), nip01_before);
  p.events.erase(std::unique(p.events.begin(), p.events.end(),
                             [](const ServedEvent& a, const ServedEvent& b) { return a.id == b.id; }),
                 p.events.end());
  counters_.events_served += p.events.size();
  return true;
}

std::vector<ServedEvent> QueryEngine::page(const Filter& f, std::uint64_t limit, std::optional<ScanKey> after) {
  PageProgress progress;
  progress.scan.after = after;
  while (!page_step(f, limit, progress, std::chrono::steady_clock::time_point::max())) {
  }
  return std::move(progress.events);
}

bool QueryEngine::page_step(const Filter& f, std::uint64_t limit, PageProgress& p,
                            std::chrono::steady_clock::time_point deadline) {
  if (limit == 0) return true;
  counters_.rows_examined = p.rows_examined;
  if (!p.max_seq) p.max_seq = index_.last_seq();
  latest_.clear();  // remembered versions are valid within one slice
  sync_deletions();
  const TextFrame bare;
  const auto collect = [&](const RecordView& ev) {
    p.events.push_back(served_event(ev, bare));
    return p.events.size() < limit;
  };
  LoadedRecord loaded;
  if (!scan_slice(f, p.scan, page_rows_for(limit), event_visitor(f, !limits_.history, p.max_seq, loaded, collect),
                  deadline)) {
    p.rows_examined = counters_.rows_examined;
    return false;
  }
  p.rows_examined = counters_.rows_examined;
  counters_.events_served += p.events.size();
  return true;
}

bool QueryEngine::count_step(std::span<const Filter> filters, CountProgress& p,
                             std::chrono::steady_clock::time_point deadline) {
  counters_.rows_examined = p.rows_examined;
  if (limits_.history) {
    std::vector<IndexQuery> queries;
    for (const Filter& f : filters)
      if (!f.is_empty_set()) queries.push_back(to_index_query(f));
    const auto slice = std::max<std::chrono::steady_clock::duration>(deadline - std::chrono::steady_clock::now(),
                                                                     std::chrono::milliseconds(1));
    bool more = !queries.empty();
    while (more && (more = count_window(queries, p, slice)) && std::chrono::steady_clock::now() < deadline) {
    }
    p.rows_examined = counters_.rows_examined;
    return !more;
  }
  // Default mode, in slices: the rules run on the index rows (the tag index holds expirations); only an
  // addressable event is decoded (its address needs the d tag).
  if (!p.max_seq) {
    p.max_seq = index_.last_seq();
    p.scans.resize(filters.size());
    for (FilterScan& at : p.scans) at.with_expiration = true;
  }
  latest_.clear();  // remembered versions are valid within one slice
  sync_deletions();
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  LoadedRecord loaded;
  for (; p.next_filter < filters.size(); ++p.next_filter) {
    const Filter& f = filters[p.next_filter];
    const auto note = [&](const IndexRow& row) {
      if (counted_from_index(row, f, p.max_seq, now, loaded)) p.seen.insert(row.id);
      return true;
    };
    if (!scan_slice(f, p.scans[p.next_filter], kMaxPageRows, note, deadline)) {
      p.rows_examined = counters_.rows_examined;
      return false;
    }
  }
  p.rows_examined = counters_.rows_examined;
  p.count = p.seen.size();
  return true;
}

// --history: from the index alone, in created_at windows from the newest matching event down, so that a
// count over millions of events is sliced like any query. A window is one SQL count (one filter) or the
// union of the filters' ids in it (several: an event matching two counts once; windows never overlap).
// Each window ends at the newest matching event below the last one, so empty stretches cost one probe;
// its width doubles while a window takes under a quarter of a slice and halves past a whole one.
bool QueryEngine::count_window(std::span<const IndexQuery> queries, CountProgress& p,
                               std::chrono::steady_clock::duration slice) {
  std::optional<std::int64_t> top;
  for (IndexQuery q : queries) {
    if (p.window_top) q.until = q.until ? std::min(*q.until, *p.window_top) : *p.window_top;
    if (q.since && q.until && *q.since > *q.until) continue;
    q.limit = 1;
    const auto newest = index_.query(q);
    charge(1);
    if (!newest.empty()) top = std::max(top.value_or(newest.front().created_at), newest.front().created_at);
  }
  if (!top) return false;
  const std::int64_t low = *top - p.window_seconds + 1;  // top >= 0 and the width is capped: no overflow
  const auto started = std::chrono::steady_clock::now();
  if (queries.size() == 1) {
    IndexQuery q = queries.front();
    q.since = q.since ? std::max(*q.since, low) : low;
    q.until = *top;
    p.count += index_.count(q);
  } else {
    std::unordered_set<Id32, Id32Hash> ids;
    for (IndexQuery q : queries) {
      q.since = q.since ? std::max(*q.since, low) : low;
      q.until = q.until ? std::min(*q.until, *top) : *top;
      if (*q.since > *q.until) continue;
      const auto rows = index_.query(q);
      charge(rows.size());
      for (const IndexRow& row : rows) ids.insert(row.id);
    }
    p.count += ids.size();
  }
  p.window_top = low - 1;
  constexpr std::int64_t kMaxWindowSeconds = std::int64_t{1} << 40;
  const auto took = std::chrono::steady_clock::now() - started;
  if (took < slice / 4) p.window_seconds = std::min(p.window_seconds * 2, kMaxWindowSeconds);
  else if (took > slice) p.window_seconds = std::max<std::int64_t>(p.window_seconds / 2, 1);
  return true;
}

}  // namespace pb::serve
