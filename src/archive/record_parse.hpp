// The one ProtoEvent parser, behind both read_record (record_view.hpp) and decode_proto_event
// (proto_codec.hpp): a bounds-checked cursor over protobuf wire format, and the walk of a record's fields
// with libprotobuf's accept/reject (unknown fields skipped, the last value of a singular field wins, strings
// must be UTF-8). Internal to the archive layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nostr/event.hpp"
#include "nostr/hex.hpp"

namespace pb::detail {

class WireReader {
 public:
  explicit WireReader(std::string_view b)
      : p_(reinterpret_cast<const std::uint8_t*>(b.data())), end_(p_ + b.size()) {}

  bool done() const { return p_ == end_; }

  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const std::uint8_t byte = *p_++;
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return true;
    }
    return false;  // more than 10 bytes
  }

  bool bytes(std::string_view& out) {
    std::uint64_t len;
    if (!varint(len) || len > static_cast<std::uint64_t>(end_ - p_)) return false;
    out = {reinterpret_cast<const char*>(p_), static_cast<std::size_t>(len)};
    p_ += len;
    return true;
  }

  // Skips a field's value of `wire_type` (what protobuf does with unknown fields).
  bool skip(std::uint32_t wire_type, std::uint32_t field, int depth = 0) {
    std::uint64_t v;
    std::string_view sv;
    switch (wire_type) {
      case 0: return varint(v);
      case 1: return advance(8);
      case 2: return bytes(sv);
      case 5: return advance(4);
      case 3:  // a group: skip fields until its end-group tag
        if (depth > 64) return false;
        for (;;) {
          std::uint32_t f, wt;
          if (!key(f, wt)) return false;
          if (wt == 4) return f == field;
          if (!skip(wt, f, depth + 1)) return false;
        }
      default: return false;
    }
  }

  bool key(std::uint32_t& field, std::uint32_t& wire_type) {
    std::uint64_t k;
    if (!varint(k) || k > 0xffffffffu) return false;
    field = static_cast<std::uint32_t>(k >> 3);
    wire_type = static_cast<std::uint32_t>(k & 7);
    return field != 0;
  }

 private:
  bool advance(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

bool utf8_ok(std::string_view s);

// Calls f(value) for each value of a tag message, in order. With kCheck, false when the message is not
// valid (a malformed field, a value that is not UTF-8); without, for a message parse_record accepted.
template <bool kCheck, class F>
bool read_tag_values(std::string_view tag, F&& f) {
  WireReader r(tag);
  while (!r.done()) {
    std::uint32_t field, wire_type;
    if (!r.key(field, wire_type)) return false;
    std::string_view v;
    if (field == 1 && wire_type == 2) {
      if (!r.bytes(v) || (kCheck && !utf8_ok(v))) return false;
      f(v);
    } else if (!r.skip(wire_type, field)) {
      return false;
    }
  }
  return true;
}

// A record's fields but its tags, as views into its bytes.
struct RecordFields {
  std::string_view id_hex, pubkey_hex, sig_hex, content;
  std::int64_t created_at = 0;
  std::int32_t kind = 0;
};

// Walks a ProtoEvent: its fields into `f`, its ids checked as lowercase hex and decoded into id, pubkey and
// sig, each tag message given to on_tag(body) in order (it checks the message, read_tag_values<true>, and
// returns false when it is invalid). Nothing, or why the bytes are not a valid ProtoEvent.
template <class OnTag>
const char* parse_record(std::string_view bytes, RecordFields& f, Id32& id, Id32& pubkey, Sig64& sig,
                         OnTag&& on_tag) {
  constexpr const char* kInvalid = "not a valid ProtoEvent";
  WireReader r(bytes);
  f = {};
  while (!r.done()) {
    std::uint32_t field, wt;
    if (!r.key(field, wt)) return kInvalid;
    bool ok = true;
    std::uint64_t n;
    std::string_view v;
    if (wt == 2 && (field == 1 || field == 2 || field == 7)) {
      ok = r.bytes(field == 1 ? f.id_hex : field == 2 ? f.pubkey_hex : f.sig_hex);
    } else if (wt == 0 && (field == 3 || field == 4)) {
      ok = r.varint(n);
      if (field == 3) f.created_at = static_cast<std::int64_t>(n);
      else f.kind = static_cast<std::int32_t>(n);
    } else if (wt == 2 && field == 5) {
      ok = r.bytes(v) && on_tag(v);
    } else if (wt == 2 && field == 6) {
      ok = r.bytes(v) && utf8_ok(v);
      f.content = v;
    } else {
      ok = r.skip(wt, field);
    }
    if (!ok) return kInvalid;
  }
  if (!utf8_ok(f.id_hex) || !utf8_ok(f.pubkey_hex) || !utf8_ok(f.sig_hex)) return kInvalid;
  if (!decode_lower_hex(f.id_hex, id)) return "id is not 64 lowercase hex characters";
  if (!decode_lower_hex(f.pubkey_hex, pubkey)) return "pubkey is not 64 lowercase hex characters";
  if (!decode_lower_hex(f.sig_hex, sig)) return "sig is not 128 lowercase hex characters";
  return nullptr;
}

}  // namespace pb::detail
