// Answers NIP-01 filters from an archive: index rows (newest created_at first, ties by the lowest id),
// events from the shared member cache, each filter's limit applied to what is actually served, merged
// across filters. In default mode only "current" events are served (visibility.hpp); --history serves all.
// One QueryEngine per worker thread (it uses that thread's read-only ArchiveIndex).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "archive/index.hpp"
#include "archive/record_view.hpp"
#include "nostr/event.hpp"
#include "nostr/filter.hpp"
#include "serve/deletion_targets.hpp"
#include "serve/member_cache.hpp"
#include "serve/serve_options.hpp"

namespace pb::serve {

// A position in NIP-01 order; a scan "after" it starts with the next event (older, or same second with a
// higher id).
struct ScanKey {
  std::int64_t created_at = 0;
  Id32 id{};
};

// Thrown when one query examines more index rows than its work budget allows.
struct BudgetExceeded : std::runtime_error {
  BudgetExceeded() : std::runtime_error("query too broad: work budget exceeded") {}
};

struct QueryCounters {
  std::uint64_t rows_examined = 0;
  std::uint64_t events_served = 0;
};

// An event as served: its place in NIP-01 order and its text, written straight from the stored record
// (no Event is built on the way).
struct ServedEvent {
  std::int64_t created_at = 0;
  Id32 id{};
  std::string text;  // frame.before + the event's JSON + frame.after
};

// What each served event's JSON is wrapped in: `["EVENT",<sub>,` and `]` for a relay, "\n" after it for
// JSONL, nothing for a REST page.
struct TextFrame {
  std::string before, after;
};

// NIP-01 order: newer first, then lower id.
inline bool nip01_before(const ServedEvent& a, const ServedEvent& b) {
  return a.created_at != b.created_at ? a.created_at > b.created_at : a.id < b.id;
}

// A row's stored record read in place, with what keeps its bytes alive. A scan keeps one and reuses it
// (its member is kept while the next rows come from the same one: day files sorted by time give runs).
struct LoadedRecord {
  std::string file_name;                        // where `member` came from
  std::uint64_t offset = 0;
  std::shared_ptr<const DecodedMember> member;
  std::string copy;                             // the record, when it came from the event cache
  std::string_view record;                      // the record's bytes (in member or copy)
  RecordView view;                              // of `record`, once read
  bool holds(const IndexRow& row) const {
    return member && offset == row.member_offset && file_name == row.file_name;
  }
};

using EventVisitor = std::function<bool(const RecordView&)>;  // false stops the scan

// Where one filter's scan stands: the index page being visited (a slice may end inside it: one page of a
// broad filter can cost hundreds of member decodes) and the position after it.
struct FilterScan {
  std::optional<ScanKey> after;  // the last row of the last page fetched
  std::uint64_t extra = 0;       // rows already seen at after->created_at (skipped on the next page)
  std::uint64_t served = 0;      // events this filter contributed
  std::vector<IndexRow> page;    // the page being visited, from `next` on
  std::size_t next = 0;
  bool last_page = false;        // the page holds the filter's last rows
  bool with_expiration = false;  // rows carry their NIP-40 expiration (a default-mode COUNT)
};

// A REQ that can be run in slices (fair scheduling: a broad scan goes to the back of the queue after each
// slice so short queries are not stuck behind it). The filters must outlive it.
struct ReqProgress {
  std::optional<std::int64_t> max_seq;  // snapshot: rows committed later are left to the live tail
  std::vector<FilterScan> scans;
  std::size_t next_filter = 0;
  TextFrame frame;                      // set before the first step
  std::vector<ServedEvent> events;      // collected so far; sorted and unique once complete
  std::uint64_t rows_examined = 0;      // carried across slices: the work budget is per query
};

// A COUNT run in slices, like ReqProgress: a default-mode COUNT applies the rules row by row (a look-up
// or two each, a decode for addressable kinds), so a broad one must yield its worker too. The filters
// must outlive it.
struct CountProgress {
  std::optional<std::int64_t> max_seq;  // snapshot taken by the first slice: later commits are not counted
  std::vector<FilterScan> scans;
  std::size_t next_filter = 0;
  std::unordered_set<Id32, Id32Hash> seen;  // events counted so far (one matching two filters counts once)
  std::uint64_t rows_examined = 0;          // carried across slices: the work budget is per query
  std::uint64_t count = 0;                  // the answer, once count_step returned true
  // --history: the count goes down created_at in windows (count_window); the next one ends at or below
  // window_top (none yet: the newest matching event), `window_seconds` wide (adapted to the slice).
  std::optional<std::int64_t> window_top;
  std::int64_t window_seconds = 3600;
};

// A REST page (one filter, up to a limit, after a cursor) run in slices, like ReqProgress.
struct PageProgress {
  std::optional<std::int64_t> max_seq;  // snapshot taken by the first slice
  FilterScan scan;                      // its `after` is the cursor until the first slice
  std::vector<ServedEvent> events;      // the page so far (no frame: bare JSON objects)
  std::uint64_t rows_examined = 0;
};

// A filter's limit as served: its own, or --default-limit, at most --max-limit.
std::uint64_t effective_limit(const Filter& f, const QueryLimits& limits);
// The most events a REQ with these filters can send before EOSE: each filter's limit, or fewer ids.
std::uint64_t max_answer_events(std::span<const Filter> filters, const QueryLimits& limits);

class QueryEngine {
 public:
  // `deletions` (may be null) spares the SQL deletion check of events no deletion names.
  QueryEngine(ArchiveIndex& index, MemberCache& cache, const QueryLimits& limits, DeletionTargets* deletions = nullptr)
      : index_(index), cache_(cache), limits_(limits), deletions_(deletions) {}

  // What a REQ sends before EOSE: per filter up to its effective limit, merged newest first (ties by the
  // lowest id), each event once. Rows with seq > max_seq (committed after the snapshot) are left out.
  std::vector<ServedEvent> req(std::span<const Filter> filters, std::optional<std::int64_t> max_seq = {});
  // Runs index pages of a REQ until it is complete (true: progress.events is the answer) or `deadline`
  // passes after at least one page (false: call again with the same progress).
  bool req_step(std::span<const Filter> filters, ReqProgress& progress,
                std::chrono::steady_clock::time_point deadline);
  // One filter, up to `limit` events strictly after `after` (REST paging).
  std::vector<ServedEvent> page(const Filter& f, std::uint64_t limit, std::optional<ScanKey> after);
  // The same in slices: true once progress.events is the page (set progress.scan.after to the cursor
  // before the first call), false when `deadline` passed first (call again with the same progress).
  bool page_step(const Filter& f, std::uint64_t limit, PageProgress& progress,
                 std::chrono::steady_clock::time_point deadline);
  // NIP-45, in slices: the events matching any filter (limits ignored), each once. True once complete
  // (progress.count is the answer), false when `deadline` passed after at least one page (call again).
  bool count_step(std::span<const Filter> filters, CountProgress& progress,
                  std::chrono::steady_clock::time_point deadline);
  // Default-mode rules (latest version, deletions, expiry); always true with --history.
  bool served(const Event& ev);
  // The event a row names, decoded from its member in the cache, or nothing (load_record).
  std::optional<Event> load(const IndexRow& row);
  // The record a row names, from its member in the cache (or the event cache), into `into`; false when it
  // is gone. A miss is tried once more with the row read again and the member decoded afresh: compaction
  // may have replaced the day file under the row or the cache (docs/archive-format.md, "Compaction").
  bool load_record(const IndexRow& row, LoadedRecord& into);

  std::uint64_t effective_limit(const Filter& f) const;
  // The limits the next calls run under (the worker pool sets each job's before its slices; --history
  // must not change).
  void set_limits(const QueryLimits& limits) { limits_ = limits; }
  const QueryCounters& counters() const { return counters_; }
  void reset_counters() { counters_ = {}; }

 private:
  using RowVisitor = std::function<bool(const IndexRow&)>;  // false stops the scan
  // visit_row() on each row, then `visit` on each event it yields (both must outlive the result).
  RowVisitor event_visitor(const Filter& f, bool apply_rules, std::optional<std::int64_t> max_seq,
                           LoadedRecord& loaded, const EventVisitor& visit);
  void scan(const Filter& f, std::optional<ScanKey> after, bool apply_rules, std::optional<std::int64_t> max_seq,
            std::size_t page_rows, const EventVisitor& visit);
  // One index page of a filter's scan; false once the filter is finished (or `visit` said stop).
  // `deadline` may end the call inside a page (true: call again to go on).
  bool scan_page(const Filter& f, FilterScan& at, std::size_t page_rows, const RowVisitor& visit,
                 std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());
  // COUNT with --history, from the index alone: one window per call (false once no matching event is
  // left below progress.window_top).
  bool count_window(std::span<const IndexQuery> queries, CountProgress& progress,
                    std::chrono::steady_clock::duration slice);
  // Pages of one filter until it is finished (true) or `deadline` passed (false: call again with `at`).
  bool scan_slice(const Filter& f, FilterScan& at, std::size_t page_rows, const RowVisitor& visit,
                  std::chrono::steady_clock::time_point deadline);
  // Default-mode COUNT: whether a row counts, from the index (a decode only for addressable kinds).
  bool counted_from_index(const IndexRow& row, const Filter& f, std::optional<std::int64_t> max_seq,
                          std::int64_t now, LoadedRecord& loaded);
  // Fetches the next page into at.page (from its first unseen row); false when no rows are left.
  bool fetch_page(const Filter& f, FilterScan& at, std::size_t page_rows);
  // Whether one row is served and matches (then loaded.view is its event).
  bool visit_row(const IndexRow& row, const Filter& f, bool apply_rules, std::optional<std::int64_t> max_seq,
                 LoadedRecord& loaded);
  // What the default-mode rules need of a stored event; an index row has it.
  struct StoredKey {
    const Id32& id;
    const Id32& pubkey;
    std::int32_t kind;
    std::int64_t created_at;
  };
  bool row_served(const StoredKey& k);    // deletion by id; replaceable kinds' deletion and latest version
  bool event_served(const EventHead& ev);  // expiry; addressable kinds' deletion and latest version
  bool deleted(const StoredKey& k, const std::optional<std::string>& address);
  Id32 latest_version(const std::string& address, const StoredKey& k, std::string_view d);
  void charge(std::size_t rows);
  // Brings the deletion set up to the last committed row and decides whether this call may use it.
  void sync_deletions();

  ArchiveIndex& index_;
  MemberCache& cache_;
  QueryLimits limits_;
  QueryCounters counters_;
  std::unordered_map<std::string, Id32> latest_;  // address -> served id, cleared per call / slice
  DeletionTargets* deletions_ = nullptr;
  bool use_deletions_ = false;  // the set covers every committed row (set per call / slice)
  DeletionTargets::Snapshot deletion_view_;  // the set as of this call / slice
  std::uint64_t cleared_ = 0;                // checks the set answered, not yet added to its counter
  std::string hex_;                          // an id in hex, for its tag key (reused: no allocation per event)
  Sha256Hasher hasher_;
  EventHead head_;  // served()'s view of a live event (reused)
};

IndexQuery to_index_query(const Filter& f);

}  // namespace pb::serve
