// Paging back through one relay's stored events (NIP-01 `until`, like `nak req --paginate`), as pure
// decisions: the connection feeds each page's stored events (those before its EOSE) and asks what next.
// The first page is the answer to the live REQ (since, limit); each further page is a REQ with the same
// since, until = the oldest created_at of the page before (inclusive: events sharing that second are
// asked again rather than lost; the archive's dedup drops the repeats) and the same limit.
//
// Rules (docs/daemon.md, "History paging"):
//  * a page with fewer events than page_size is the last one (complete);
//  * a full page whose oldest event is older than the page's until: next page until = that oldest;
//  * a full page entirely at its until second (that second alone holds a page or more, or the relay
//    ignored until and repeated a page): next page until = that second - 1 (skip_second: events of that
//    second the relay never returns cannot be reached with until);
//  * a full page with nothing at or before its until (the relay ignores until): stop (no_progress);
//  * until below since: complete.
// until strictly decreases from page to page and never goes below since, so paging always ends.
#pragma once

#include <cstdint>
#include <optional>

namespace pb::daemon {

enum class PageVerdict { more, skip_second, complete, no_progress };

struct PageStep {
  PageVerdict verdict = PageVerdict::complete;
  std::int64_t until = 0;  // more, skip_second: the next page's until
};

class HistoryPager {
 public:
  HistoryPager(std::int64_t since, std::uint64_t page_size) : since_(since), page_size_(page_size) {}

  // One stored event of the current page (created_at when it could be read from the event).
  void event(std::optional<std::int64_t> created_at);
  // The current page's EOSE: what to do next. After more/skip_second the next page is current.
  PageStep end_page();

  std::int64_t since() const { return since_; }
  std::uint64_t page_size() const { return page_size_; }
  // The current page's until (nullopt: the first page, the live REQ's answer).
  std::optional<std::int64_t> until() const { return until_; }

 private:
  PageStep next(PageVerdict v, std::int64_t until);
  std::int64_t since_;
  std::uint64_t page_size_;
  std::optional<std::int64_t> until_;
  std::uint64_t count_ = 0;
  std::optional<std::int64_t> oldest_;
};

}  // namespace pb::daemon
