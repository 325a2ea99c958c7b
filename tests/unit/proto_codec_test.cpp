// Our hand-written ProtoEvent encoder must produce exactly protobuf's bytes, and decode must invert it.
#include <gtest/gtest.h>

#include <random>

#include "nostr/hex.hpp"
#include "nostr/json_parse.hpp"
#include "archive/proto_codec.hpp"
#include "archive/record_view.hpp"
#include "nostr/json_writer.hpp"
#include "proto/nostr.pb.h"
#include "test_support.hpp"

namespace pb {
namespace {

std::string reference_bytes(const Event& ev) {
  nostr::ProtoEvent m;
  std::string hex;
  auto h = [](auto& bytes) {
    static constexpr char d[] = "0123456789abcdef";
    std::string s;
    for (auto b : bytes) {
      s.push_back(d[b >> 4]);
      s.push_back(d[b & 15]);
    }
    return s;
  };
  m.set_id(h(ev.id));
  m.set_pubkey(h(ev.pubkey));
  m.set_created_at(ev.created_at);
  m.set_kind(ev.kind);
  for (const auto& tag : ev.tags) {
    auto* t = m.add_tags();
    for (const auto& v : tag) t->add_values(v);
  }
  m.set_content(ev.content);
  m.set_sig(h(ev.sig));
  std::string out;
  EXPECT_TRUE(m.SerializeToString(&out));
  return out;
}

Event random_event(std::mt19937_64& rng) {
  Event ev;
  for (auto& b : ev.id) b = static_cast<std::uint8_t>(rng());
  for (auto& b : ev.pubkey) b = static_cast<std::uint8_t>(rng());
  for (auto& b : ev.sig) b = static_cast<std::uint8_t>(rng());
  const int shape = static_cast<int>(rng() % 4);
  ev.created_at = shape == 0 ? 0 : static_cast<std::int64_t>(rng() >> (rng() % 63 + 1));
  ev.kind = shape == 1 ? 0 : static_cast<std::int32_t>(rng() % 65536);
  const std::size_t ntags = rng() % 5;
  for (std::size_t t = 0; t < ntags; ++t) {
    Tag tag(rng() % 4);
    for (auto& v : tag) v.assign(rng() % 3 == 0 ? 0 : rng() % 300, static_cast<char>('a' + rng() % 26));
    ev.tags.push_back(tag);
  }
  if (shape != 2) ev.content.assign(rng() % 20000, 'x');
  return ev;
}

TEST(ProtoCodec, SampleEventsEncodeExactlyLikeProtobufAndRoundTrip) {
  EventParser parser;
  int n = 0;
  for (const auto& line : test::read_lines(test::data_path("sample_events.jsonl"))) {
    Event ev;
    if (parser.parse(line, ev)) continue;
    std::string ours;
    append_proto_event(ours, ev);
    ASSERT_EQ(ours, reference_bytes(ev)) << line.substr(0, 100);
    Event back;
    ASSERT_FALSE(decode_proto_event(ours, back).has_value());
    EXPECT_EQ(back, ev);
    ++n;
  }
  EXPECT_EQ(n, 141);
}

TEST(ProtoCodec, RandomEventsIncludingDefaultsAndEmptyTags) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 500; ++i) {
    const Event ev = random_event(rng);
    std::string ours;
    append_proto_event(ours, ev);
    ASSERT_EQ(ours, reference_bytes(ev)) << "event " << i;
    Event back;
    ASSERT_FALSE(decode_proto_event(ours, back).has_value());
    ASSERT_EQ(back, ev);
  }
}

TEST(ProtoCodec, RecordFramingIsVarintLengthPrefix) {
  std::mt19937_64 rng(7);
  for (std::size_t content : {0u, 50u, 200u, 20000u, 3000000u}) {
    Event ev = random_event(rng);
    ev.content.assign(content, 'y');
    std::string rec;
    append_record(rec, ev);
    std::string body;
    append_proto_event(body, ev);
    std::string prefix;
    append_varint(prefix, body.size());
    EXPECT_EQ(rec, prefix + body) << content;
  }
}

// libprotobuf's verdict and values, for differential testing of our wire decoder.
std::optional<Event> reference_decode(std::string_view bytes) {
  nostr::ProtoEvent m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return std::nullopt;
  Event ev;
  if (!decode_lower_hex(m.id(), ev.id) || !decode_lower_hex(m.pubkey(), ev.pubkey) || !decode_lower_hex(m.sig(), ev.sig))
    return std::nullopt;
  ev.created_at = m.created_at();
  ev.kind = m.kind();
  for (const auto& t : m.tags()) ev.tags.emplace_back(t.values().begin(), t.values().end());
  ev.content = m.content();
  return ev;
}

TEST(ProtoCodec, DecoderAgreesWithLibprotobufOnMutatedBytes) {
  std::mt19937_64 rng(99);
  Event reused;  // decoding into a dirty event must not leak old tags/content
  int accepted = 0, rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    Event ev = random_event(rng);
    if (ev.content.size() > 200) ev.content.resize(200);
    std::string bytes;
    append_proto_event(bytes, ev);
    switch (rng() % 6) {
      case 0: break;
      case 1: bytes[rng() % bytes.size()] ^= static_cast<char>(1u << (rng() % 8)); break;
      case 2: bytes.resize(rng() % bytes.size()); break;
      case 3: bytes.insert(rng() % (bytes.size() + 1), 1, static_cast<char>(rng())); break;
      case 4: {  // an unknown field of a random wire type in front
        const char unknown[] = {static_cast<char>((9 << 3) | static_cast<int>(rng() % 6)), 1, 2, 3, 4, 5, 6, 7, 8, 9};
        bytes.insert(0, unknown, sizeof unknown);
        break;
      }
      case 5: for (auto& c : bytes) if (rng() % 50 == 0) c = static_cast<char>(rng()); break;
    }
    const auto want = reference_decode(bytes);
    const auto err = decode_proto_event(bytes, reused);
    ASSERT_EQ(!err.has_value(), want.has_value()) << "case " << i << (err ? ": " + *err : std::string());
    if (want) {
      ASSERT_EQ(reused, *want) << "case " << i;
      ++accepted;
    } else {
      ++rejected;
    }
  }
  EXPECT_GT(accepted, 5000);
  EXPECT_GT(rejected, 2000);
}

// A record read in place (the query server's path) must say what the decoded event says: the same JSON
// bytes and the same head, on records with escapes, empty and one-string tags, and damaged bytes.
TEST(RecordView, WritesTheDecodedEventsJsonAndHead) {
  std::mt19937_64 rng(5);
  const std::string specials[] = {"\"", "\\", "\n", std::string(1, '\0'), "\x1f", "\x7f", "</script>", "\xc3\xa9",
                                  "\xf0\x9f\x98\x80", "\u2028"};
  RecordView view;  // reused, as the server reuses it: no field may leak from one record into the next
  int accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    Event ev = random_event(rng);
    ev.content.resize(std::min<std::size_t>(ev.content.size(), 100));
    for (int k = 0; k < 4; ++k) ev.content += specials[rng() % std::size(specials)];
    for (auto& tag : ev.tags)
      if (!tag.empty() && rng() % 2) tag.back() += specials[rng() % std::size(specials)];
    std::string bytes;
    append_proto_event(bytes, ev);
    if (rng() % 4 == 0) bytes[rng() % bytes.size()] ^= static_cast<char>(1u << (rng() % 8));
    Event decoded;
    const auto err = decode_proto_event(bytes, decoded);
    const char* view_err = read_record(bytes, view);
    ASSERT_EQ(view_err == nullptr, !err.has_value()) << "case " << i;
    if (err) {
      EXPECT_EQ(std::string(view_err), *err);
      continue;
    }
    ++accepted;
    std::string want, got;
    append_event_json(want, decoded);
    append_record_json(got, view);
    ASSERT_EQ(got, want) << "case " << i;
    EventHead head;
    head_of(decoded, head);
    ASSERT_EQ(view.head.id, head.id);
    ASSERT_EQ(view.head.pubkey, head.pubkey);
    ASSERT_EQ(view.head.created_at, head.created_at);
    ASSERT_EQ(view.head.kind, head.kind);
    ASSERT_EQ(view.head.tags.size(), head.tags.size());
    for (std::size_t t = 0; t < head.tags.size(); ++t) {
      ASSERT_EQ(view.head.tags[t].name, head.tags[t].name);
      ASSERT_EQ(view.head.tags[t].has_value, head.tags[t].has_value);
      ASSERT_EQ(view.head.tags[t].value, head.tags[t].value);
    }
  }
  EXPECT_GT(accepted, 3000);
}

TEST(ProtoCodec, DecodeRejectsMalformedRecords) {
  Event ev;
  EXPECT_TRUE(decode_proto_event("\xff\xff\xff", ev).has_value());
  nostr::ProtoEvent m;
  m.set_id("ABCDEF");  // not 64 lowercase hex
  m.set_pubkey(std::string(64, 'a'));
  m.set_sig(std::string(128, 'b'));
  std::string bytes;
  m.SerializeToString(&bytes);
  const auto err = decode_proto_event(bytes, ev);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("id"), std::string::npos);
}

}  // namespace
}  // namespace pb
