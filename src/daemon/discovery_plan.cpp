#include "daemon/discovery_plan.hpp"

#include <algorithm>

#include "daemon/discovery_score.hpp"

namespace pb::daemon {
namespace {

std::vector<const Candidate*> ranked(std::vector<const Candidate*> v) {
  std::sort(v.begin(), v.end(), [](const Candidate* a, const Candidate* b) { return ranks_before(*a, *b); });
  return v;
}

}  // namespace

Plan plan_round(const Candidates& candidates, const std::set<std::string>& active, const std::set<std::string>& skip,
                const PlanSettings& settings, std::int64_t now_unix, const std::function<bool()>& take_token) {
  Plan plan;
  std::vector<const Candidate*> keep, waiting;
  for (const auto& url : active) {
    const auto it = candidates.find(url);
    if (it == candidates.end() || skip.count(url)) plan.drop.push_back(url);
    else if (it->second.failures >= kParkAfterFailures) plan.park.push_back(url), plan.drop.push_back(url);
    else if (!eligible(it->second, now_unix)) plan.drop.push_back(url);
    else keep.push_back(&it->second);
  }
  keep = ranked(std::move(keep));
  while (keep.size() > settings.slots) plan.drop.push_back(keep.back()->url), keep.pop_back();  // worst first out
  for (const auto& [url, c] : candidates)
    if (!active.count(url) && !skip.count(url) && eligible(c, now_unix))
      waiting.push_back(&c);
  waiting = ranked(std::move(waiting));

  auto next = waiting.begin();
  for (std::size_t free = settings.slots - keep.size(); free > 0 && next != waiting.end(); --free, ++next) {
    if (!take_token()) return plan;
    plan.start.push_back((*next)->url);
  }
  if (next == waiting.end() || keep.empty() || !plan.start.empty()) return plan;
  // Full: rotate the worst relay past its grace period out if the best waiting one ranks above it.
  auto worst = std::find_if(keep.rbegin(), keep.rend(), [&](const Candidate* c) { return c->active_seconds >= settings.grace_seconds; });
  if (worst == keep.rend() || !ranks_before(**next, **worst) || !take_token()) return plan;
  plan.drop.push_back((*worst)->url);
  plan.start.push_back((*next)->url);
  plan.rotated = true;
  return plan;
}

}  // namespace pb::daemon
