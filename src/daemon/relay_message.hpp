// Relay -> client messages (NIP-01/NIP-42): classifies one text frame. EVENT is split without parsing the
// event (a worker does that); the rest go through simdjson.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace pb::daemon {

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
