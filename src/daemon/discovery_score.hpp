// How discovered relays are ranked (docs/daemon.md, "Discovery"):
//   score = uptime x (log2(1 + mentions) + 4 x log2(1 + novel events per connected hour)) - failures
// where uptime = connected_seconds / active_seconds once the relay was active a minute (1 before: an
// untried relay is judged by its mentions), and the hour divisor is at least one hour (a relay that
// brought 10 events in its first minute is not credited 600 an hour). Pure functions: no clock inside.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "daemon/discovery_candidate.hpp"

namespace pb::daemon {

double score(const Candidate& c);

// Better first: higher score, then more mentions, then the URL (so the order never depends on a map's).
bool ranks_before(const Candidate& a, const Candidate& b);

// May be dialled at now_unix: not refused, not parked.
bool eligible(const Candidate& c, std::int64_t now_unix);

// For /relays: "refused" (by the address rules), "parked" (too many failures), or "candidate".
std::string_view candidate_state(const Candidate& c, std::int64_t now_unix);

}  // namespace pb::daemon
