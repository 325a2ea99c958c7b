// Event <-> nostr.ProtoEvent (proto/nostr.proto), and the length-delimited record framing
// `varint(len) || ProtoEvent` used in day files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "nostr/event.hpp"

namespace pb {

// Largest record (ProtoEvent bytes) we write or accept when reading. Readers reject longer length
// prefixes as corruption instead of allocating; convert rejects events that would exceed it.
inline constexpr std::uint64_t kMaxRecordBytes = 256ull << 20;

void append_varint(std::string& out, std::uint64_t v);

// Appends the protobuf encoding of `ev` exactly as protobuf's own serializer would write it (fields in
// number order, proto3 defaults omitted), without a length prefix.
void append_proto_event(std::string& out, const Event& ev);

// Appends varint(len) || ProtoEvent.
void append_record(std::string& out, const Event& ev);

// Decodes a ProtoEvent. Returns an error message when the bytes are not a valid ProtoEvent or its
// hex fields are malformed (records from other tools are checked too).
std::optional<std::string> decode_proto_event(std::string_view bytes, Event& out);

}  // namespace pb
