#include "daemon/cursor_hold.hpp"

#include <algorithm>

namespace pb::daemon {

void CursorHold::event(std::uint64_t run, std::optional<std::int64_t> at) {
  if (run == 0 || run <= ended_) return release(at);
  Run& r = open_[run];
  ++r.seen;
  if (at) r.newest = r.newest ? std::max(*r.newest, *at) : *at;
  settle(run);
}

void CursorHold::end(std::uint64_t run, std::uint64_t events) {
  if (run == 0 || run <= ended_) return;
  open_[run].expected = events;
  settle(run);
}

void CursorHold::settle(std::uint64_t run) {
  const Run& r = open_.at(run);
  if (!r.expected || r.seen < *r.expected) return;
  ended_ = run;
  auto it = open_.begin();
  for (; it != open_.end() && it->first <= run; ++it) release(it->second.newest);
  open_.erase(open_.begin(), it);
}

void CursorHold::release(std::optional<std::int64_t> at) {
  if (at) ready_ = ready_ ? std::max(*ready_, *at) : *at;
}

}  // namespace pb::daemon
