// ArchiveStats as the JSON object of `proton-beam stats --json` (README, "proton-beam stats"), shared by
// the CLI and the query server's /api/v1/stats.
#pragma once

#include <cstddef>
#include <string>

#include "ops/stats.hpp"

namespace pb {

// One JSON object, no trailing newline. `top` kinds (0 = all).
std::string stats_json(const ArchiveStats& s, std::size_t top);

}  // namespace pb
