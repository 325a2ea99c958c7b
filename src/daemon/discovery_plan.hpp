// One discovery round's decisions, from the candidates and the relays discovery has in the connected set:
// which to park (failed kParkAfterFailures times in a row), which to drop (refused, parked, or beyond the
// slots), which to start (best eligible first, while the rate limit allows), and at most one rotation
// (the worst active relay past its grace period makes way for a better waiting one). Pure: the caller
// applies the plan and passes the clock and the rate limit in.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "daemon/discovery_candidate.hpp"

namespace pb::daemon {

inline constexpr std::uint32_t kParkAfterFailures = 10;
inline constexpr std::int64_t kParkSeconds = 24 * 3600;
// Parking sets failures to kParkAfterFailures - 1: when the park ends the relay gets one attempt, and
// one more failure parks it again.

struct PlanSettings {
  std::size_t slots = 0;              // --max-relays minus the operator relays
  std::int64_t grace_seconds = 900;   // active this long before it may be rotated out
};

struct Plan {
  std::vector<std::string> park;     // park (then drop): too many failures in a row
  std::vector<std::string> drop;     // leave the connected set (refused, parked, over the slots, rotated out)
  std::vector<std::string> start;    // join the connected set, best first
  bool rotated = false;              // one of `drop` made way for one of `start`
};

using Candidates = std::map<std::string, Candidate>;

// active: discovered relays in the connected set; skip: URLs never started by discovery (operator relays).
// take_token: the new-connection rate limit (called once per start, stops starting when it says no).
Plan plan_round(const Candidates& candidates, const std::set<std::string>& active, const std::set<std::string>& skip,
                const PlanSettings& settings, std::int64_t now_unix, const std::function<bool()>& take_token);

}  // namespace pb::daemon
