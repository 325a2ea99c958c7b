// The relay's outgoing NIP-01 messages as JSON text (strings escaped by nostr/canonical's
// append_json_string, as JSON.stringify does).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "nostr/canonical.hpp"  // append_json_string, which the messages' users share
#include "nostr/event.hpp"

namespace pb::serve {

std::string event_message(std::string_view sub_id, const Event& ev);  // ["EVENT",sub,{...}]
// What precedes an event's JSON in an EVENT message (`["EVENT",sub,`); "]" follows it.
std::string event_message_head(std::string_view sub_id);
std::string eose_message(std::string_view sub_id);                     // ["EOSE",sub]
std::string closed_message(std::string_view sub_id, std::string_view reason);
std::string notice_message(std::string_view text);
std::string count_message(std::string_view sub_id, std::uint64_t n);  // ["COUNT",sub,{"count":n}]
std::string ok_message(std::string_view event_id, bool ok, std::string_view reason);

}  // namespace pb::serve
