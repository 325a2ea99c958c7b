#include "daemon/history_pager.hpp"

#include <algorithm>
#include <utility>

namespace pb::daemon {

void HistoryPager::event(std::optional<std::int64_t> created_at) {
  ++count_;
  if (created_at) oldest_ = oldest_ ? std::min(*oldest_, *created_at) : *created_at;
}

PageStep HistoryPager::end_page() {
  const std::uint64_t count = std::exchange(count_, 0);
  const std::optional<std::int64_t> oldest = std::exchange(oldest_, std::nullopt);
  if (count < page_size_) return {PageVerdict::complete, 0};
  if (!oldest) return {PageVerdict::no_progress, 0};  // a full page, but no readable created_at in it
  if (!until_ || *oldest < *until_) return next(PageVerdict::more, *oldest);
  if (*oldest == *until_) return next(PageVerdict::skip_second, *until_ - 1);
  return {PageVerdict::no_progress, 0};
}

PageStep HistoryPager::next(PageVerdict v, std::int64_t until) {
  if (until < since_) return {PageVerdict::complete, 0};
  until_ = until;
  return {v, until};
}

}  // namespace pb::daemon
