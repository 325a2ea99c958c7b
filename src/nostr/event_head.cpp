#include "nostr/event_head.hpp"

namespace pb {

void head_of(const Event& ev, EventHead& out) {
  out.id = ev.id;
  out.pubkey = ev.pubkey;
  out.created_at = ev.created_at;
  out.kind = ev.kind;
  out.tags.clear();
  for (const Tag& t : ev.tags) {
    TagHead h;
    if (!t.empty()) h.name = t[0];
    if (t.size() >= 2) {
      h.value = t[1];
      h.has_value = true;
    }
    out.tags.push_back(h);
  }
}

}  // namespace pb
