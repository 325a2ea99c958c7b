// The writer's view of one relay's cursor (the newest created_at committed from it) while the relay's
// history is being paged. Each (re)connection opens a history run (a process-wide increasing number); the
// events read before that run's end carry its number, and the end itself reaches the writer through the
// same queues as a mark saying how many events were tagged. Until every one of them has reached the
// writer (stored, already archived, or dropped by a worker: workers run in parallel, so the mark may
// overtake some), what they would move the cursor to is held back: a kill mid-paging never commits a
// cursor past the part of the history not fetched yet, and the next start asks for it again.
// When a run ends, its events and those of older, abandoned runs (a connection lost mid-paging) are
// released; events untagged or of an ended run move the cursor at once, as before paging existed.
// Writer thread only; pure (the caller caps created_at at the clock).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>

namespace pb::daemon {

class CursorHold {
 public:
  // An event of the relay reached the writer: run 0 = not part of an unfinished history run; `at` =
  // its created_at when it may move the cursor (stored or already archived), nullopt when a worker
  // dropped it (invalid, filtered, a copy verified but not committed yet).
  void event(std::uint64_t run, std::optional<std::int64_t> at);
  // The end mark of `run`: `events` events were tagged with it.
  void end(std::uint64_t run, std::uint64_t events);
  // The newest created_at released since the last take (nullopt: nothing new).
  std::optional<std::int64_t> take() { return std::exchange(ready_, std::nullopt); }
  bool ready() const { return ready_.has_value(); }
  // Nothing held, nothing to take: the writer may forget this relay.
  bool idle() const { return open_.empty() && !ready_; }

 private:
  struct Run {
    std::uint64_t seen = 0;
    std::optional<std::uint64_t> expected;  // set by the end mark
    std::optional<std::int64_t> newest;
  };
  void settle(std::uint64_t run);
  void release(std::optional<std::int64_t> at);
  std::map<std::uint64_t, Run> open_;  // runs not ended, or ended with events still on their way
  std::uint64_t ended_ = 0;            // runs up to this number are released
  std::optional<std::int64_t> ready_;
};

}  // namespace pb::daemon
