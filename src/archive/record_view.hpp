// A stored record (ProtoEvent) read in place: what filters and the serving rules need (an EventHead) and
// the event's JSON, written straight from the record's bytes. The query server serves each row this way
// instead of decoding an Event (perf: the decode and its allocations were the workers' largest cost).
// Accepts and rejects exactly what decode_proto_event does: that function is built on this one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "nostr/event_head.hpp"

namespace pb {

// Every view points into the record's bytes (keep them alive and unchanged while the view is used).
struct RecordView {
  std::string_view bytes;                        // the whole record
  EventHead head;                                // ids decoded; tags' names and first values
  std::string_view id_hex, pubkey_hex, sig_hex;  // as stored: lowercase hex (checked)
  std::string_view content;
  std::vector<std::string_view> tags;  // each tag's message (protobuf bytes), in order
};

// Reads `bytes` into `out` (its vectors keep their room from call to call). Nothing, or why the bytes are
// not a valid ProtoEvent: the same verdict and message as decode_proto_event.
const char* read_record(std::string_view bytes, RecordView& out);

// Appends the event's NIP-01 JSON: the same bytes as append_event_json of the decoded event.
void append_record_json(std::string& out, const RecordView& v);
// About how long that JSON is (to reserve once).
inline std::size_t record_json_size_hint(const RecordView& v) { return v.bytes.size() + v.bytes.size() / 8 + 128; }

}  // namespace pb
