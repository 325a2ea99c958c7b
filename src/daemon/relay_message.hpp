// Relay -> client messages (NIP-01/NIP-42): classifies one text frame. EVENT is split without parsing the
// event (a worker does that); the rest go through simdjson.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "nostr/event.hpp"

namespace pb::daemon {

// The id an event object names as its FIRST key (`{"id":"<64 lowercase hex>"`, how relays send what they
// stored), read without parsing the rest; nullopt for any other shape. The workers' duplicate check before
// parsing (verifier_pool.cpp).
std::optional<Id32> leading_id(std::string_view event);

enum class RelayMsgType { event, eose, notice, closed, ok, auth, other, malformed };

struct RelayMessage {
  RelayMsgType type = RelayMsgType::malformed;
  std::string sub;          // EVENT, EOSE, CLOSED: the subscription id (raw, escapes not decoded)
  std::string_view event;   // EVENT: the event object's JSON text (a view into the frame)
  std::string text;         // NOTICE message, CLOSED reason, AUTH challenge, OK message
  std::string error;        // malformed: why
};

class RelayMessageParser {
 public:
  RelayMessage parse(std::string_view frame);
  // An EVENT's created_at (`event` = RelayMessage::event), for history paging on the io thread; nullopt
  // when it is not an object with an integer created_at (the worker rejects such an event later).
  std::optional<std::int64_t> created_at(std::string_view event);

 private:
  RelayMessage parse_other(std::string_view frame);
  simdjson::dom::parser parser_;
};

}  // namespace pb::daemon
