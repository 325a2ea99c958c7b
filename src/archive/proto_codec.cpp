#include "archive/proto_codec.hpp"

#include "archive/record_parse.hpp"
#include "nostr/hex.hpp"

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

// The parser read_record uses too (record_parse.hpp): the same accept/reject as libprotobuf's parser for
// ProtoEvent, without building a message object per record; tags go straight into `out`, whose vectors keep
// their room from call to call. Tested against libprotobuf.
std::optional<std::string> decode_proto_event(std::string_view bytes, Event& out) {
  std::size_t ntags = 0;
  const auto decode_tag = [&](std::string_view body) {
    if (ntags == out.tags.size()) out.tags.emplace_back();
    Tag& tag = out.tags[ntags++];
    tag.clear();
    return detail::read_tag_values<true>(body, [&](std::string_view v) { tag.emplace_back(v); });
  };
  detail::RecordFields f;
  if (const char* err = detail::parse_record(bytes, f, out.id, out.pubkey, out.sig, decode_tag))
    return std::string(err);
  out.tags.resize(ntags);
  out.content.assign(f.content);
  out.created_at = f.created_at;
  out.kind = f.kind;
  return std::nullopt;
}

}  // namespace pb
