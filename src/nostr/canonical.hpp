// NIP-01 canonical serialization and the event id.
//
// id = sha256 of [0,"<pubkey>",<created_at>,<kind>,<tags>,"<content>"], compact, escaped exactly as
// JSON.stringify does: \" \\ \n \r \t \b \f, other U+0000..U+001F as lowercase \u00xx, everything else raw.
#pragma once

#include <string>
#include <string_view>

#include "nostr/event.hpp"

namespace pb {

class Sha256Hasher;

// Appends `s` as a JSON string literal (with quotes), escaped the JSON.stringify way.
void append_json_string(std::string& out, std::string_view s);

// Appends the canonical serialization of `ev` (its id and sig are not part of it).
void append_canonical(std::string& out, const Event& ev);

// sha256 of the canonical serialization. `scratch` is reused to avoid an allocation per event.
Id32 compute_event_id(const Event& ev, std::string& scratch);
// The same through a reused hasher (hot paths).
Id32 compute_event_id(const Event& ev, std::string& scratch, Sha256Hasher& hasher);

}  // namespace pb
