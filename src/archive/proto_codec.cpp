#include "archive/proto_codec.hpp"

#include "nostr/hex.hpp"
#include <simdjson.h>

namespace pb {
namespace {

// Wire types and field keys of proto/nostr.proto.
constexpr std::uint8_t kVarint = 0, kLen = 2;
constexpr std::uint8_t key(int field, std::uint8_t wire_type) {
  return static_cast<std::uint8_t>((field << 3) | wire_type);
}

std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void append_len_field(std::string& out, int field, std::string_view bytes) {
  out.push_back(static_cast<char>(key(field, kLen)));
  append_varint(out, bytes.size());
  out.append(bytes);
}

void append_hex_field(std::string& out, int field, std::span<const std::uint8_t> bytes) {
  out.push_back(static_cast<char>(key(field, kLen)));
  append_varint(out, bytes.size() * 2);
  append_hex(out, bytes);
}

std::size_t tag_body_size(const Tag& tag) {
  std::size_t n = 0;
  for (const auto& v : tag) n += 1 + varint_size(v.size()) + v.size();
  return n;
}

}  // namespace

void append_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void append_proto_event(std::string& out, const Event& ev) {
  // Same bytes as protobuf's serializer: field order, proto3 defaults (0, "") omitted, negative
  // integers as 10-byte two's complement varints, every repeated element emitted (empty tags too).
  append_hex_field(out, 1, ev.id);
  append_hex_field(out, 2, ev.pubkey);
  if (ev.created_at != 0) {
    out.push_back(static_cast<char>(key(3, kVarint)));
    append_varint(out, static_cast<std::uint64_t>(ev.created_at));
  }
  if (ev.kind != 0) {
    out.push_back(static_cast<char>(key(4, kVarint)));
    append_varint(out, static_cast<std::uint64_t>(static_cast<std::int64_t>(ev.kind)));
  }
  for (const Tag& tag : ev.tags) {
    out.push_back(static_cast<char>(key(5, kLen)));
    append_varint(out, tag_body_size(tag));
    for (const auto& v : tag) append_len_field(out, 1, v);
  }
  if (!ev.content.empty()) append_len_field(out, 6, ev.content);
  append_hex_field(out, 7, ev.sig);
}

void append_record(std::string& out, const Event& ev) {
  // Encode in place after a reserved 1-byte prefix; shift only when the length needs more bytes.
  const std::size_t start = out.size();
  out.push_back('\0');
  append_proto_event(out, ev);
  const std::size_t len = out.size() - start - 1;
  std::string prefix;
  append_varint(prefix, len);
  if (prefix.size() == 1) {
    out[start] = prefix[0];
  } else {
    out.insert(start + 1, prefix.size() - 1, '\0');
    out.replace(start, prefix.size(), prefix);
  }
}

namespace {

// A bounds-checked cursor over protobuf wire format. Every read fails cleanly at the end of input.
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

bool utf8_ok(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

bool decode_tag(std::string_view body, Tag& tag) {
  tag.clear();
  WireReader r(body);
  while (!r.done()) {
    std::uint32_t field, wt;
    if (!r.key(field, wt)) return false;
    if (field == 1 && wt == 2) {
      std::string_view v;
      if (!r.bytes(v) || !utf8_ok(v)) return false;
      tag.emplace_back(v);
    } else if (!r.skip(wt, field)) {
      return false;
    }
  }
  return true;
}

}  // namespace

// A direct wire-format decoder: the same accept/reject and values as libprotobuf's parser for
// ProtoEvent (unknown fields skipped, last value of a repeated singular field wins, proto3 strings
// must be UTF-8), without building a message object per record. Tested against libprotobuf.
std::optional<std::string> decode_proto_event(std::string_view bytes, Event& out) {
  WireReader r(bytes);
  std::string_view id, pubkey, sig;
  std::int64_t created_at = 0;
  std::int32_t kind = 0;
  std::size_t ntags = 0;
  out.content.clear();
  while (!r.done()) {
    std::uint32_t field, wt;
    if (!r.key(field, wt)) return "not a valid ProtoEvent";
    bool ok = true;
    std::string_view v;
    std::uint64_t n;
    if (wt == 2 && (field == 1 || field == 2 || field == 7)) {
      ok = r.bytes(field == 1 ? id : field == 2 ? pubkey : sig);
    } else if (wt == 0 && (field == 3 || field == 4)) {
      ok = r.varint(n);
      if (field == 3) created_at = static_cast<std::int64_t>(n);
      else kind = static_cast<std::int32_t>(n);
    } else if (wt == 2 && field == 5) {
      ok = r.bytes(v);
      if (ok) {
        if (ntags == out.tags.size()) out.tags.emplace_back();
        ok = decode_tag(v, out.tags[ntags++]);
      }
    } else if (wt == 2 && field == 6) {
      ok = r.bytes(v) && utf8_ok(v);
      if (ok) out.content.assign(v);
    } else {
      ok = r.skip(wt, field);
    }
    if (!ok) return "not a valid ProtoEvent";
  }
  out.tags.resize(ntags);
  if (!utf8_ok(id) || !utf8_ok(pubkey) || !utf8_ok(sig)) return "not a valid ProtoEvent";
  if (!decode_lower_hex(id, out.id)) return "id is not 64 lowercase hex characters";
  if (!decode_lower_hex(pubkey, out.pubkey)) return "pubkey is not 64 lowercase hex characters";
  if (!decode_lower_hex(sig, out.sig)) return "sig is not 128 lowercase hex characters";
  out.created_at = created_at;
  out.kind = kind;
  return std::nullopt;
}

}  // namespace pb
