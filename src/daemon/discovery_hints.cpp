#include "daemon/discovery_hints.hpp"

#include <algorithm>

namespace pb::daemon {
namespace {

constexpr std::int32_t kRelayListKind = 10002;

// The tag's URL and where it comes from, or nothing when the tag names no relay.
const std::string* hint_of(const Event& ev, const Tag& tag, HintSource& source) {
  if (tag.size() < 2 || tag[0].size() != 1) return nullptr;
  const char name = tag[0][0];
  if (name == 'r' && ev.kind == kRelayListKind) return source = HintSource::nip65, &tag[1];
  if ((name == 'e' || name == 'p' || name == 'a') && tag.size() >= 3) return source = HintSource::hint, &tag[2];
  return nullptr;
}

}  // namespace

std::vector<RelayHint> relay_hints(const Event& ev) {
  std::vector<RelayHint> out;
  for (const auto& tag : ev.tags) {
    HintSource source{};
    const std::string* url = hint_of(ev, tag, source);
    if (!url || url->empty()) continue;
    const std::string cut = url->substr(0, kMaxHintBytes + 1);  // enough to know it is too long
    auto same = std::find_if(out.begin(), out.end(), [&](const RelayHint& h) { return h.url == cut; });
    if (same != out.end()) {
      if (source == HintSource::nip65) same->source = HintSource::nip65;
      continue;
    }
    if (out.size() == kMaxHintsPerEvent) break;
    out.push_back({cut, source});
  }
  return out;
}

}  // namespace pb::daemon
