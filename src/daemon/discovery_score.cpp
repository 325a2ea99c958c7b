#include "daemon/discovery_score.hpp"

#include <algorithm>
#include <cmath>

namespace pb::daemon {

double score(const Candidate& c) {
  const double hours = static_cast<double>(std::max<std::int64_t>(c.connected_seconds, 3600)) / 3600.0;
  const double novelty = std::log2(1.0 + static_cast<double>(c.novel_events) / hours);
  const double uptime =
      c.active_seconds >= 60 ? static_cast<double>(c.connected_seconds) / static_cast<double>(c.active_seconds) : 1.0;
  return uptime * (std::log2(1.0 + static_cast<double>(c.mentions)) + 4.0 * novelty) - static_cast<double>(c.failures);
}

bool ranks_before(const Candidate& a, const Candidate& b) {
  const double sa = score(a), sb = score(b);
  if (sa != sb) return sa > sb;
  if (a.mentions != b.mentions) return a.mentions > b.mentions;
  return a.url < b.url;
}

bool eligible(const Candidate& c, std::int64_t now_unix) { return c.refusal.empty() && c.parked_until <= now_unix; }

std::string_view candidate_state(const Candidate& c, std::int64_t now_unix) {
  if (!c.refusal.empty()) return "refused";
  if (c.parked_until > now_unix) return c.last_error.rfind("refused", 0) == 0 ? "refused" : "parked";
  return "candidate";
}

}  // namespace pb::daemon
