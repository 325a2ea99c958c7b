// NIP-01 canonical serialization edge cases: the escaping rules are JSON.stringify's.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nostr/canonical.hpp"
#include "nostr/crypto.hpp"
#include "nostr/hex.hpp"
#include "nostr/json_parse.hpp"

namespace pb {
namespace {

std::string json_str(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(Canonical, EveryC0ControlCharacter) {
  const char* named[0x20] = {};
  named['\b'] = "\\b";
  named['\t'] = "\\t";
  named['\n'] = "\\n";
  named['\f'] = "\\f";
  named['\r'] = "\\r";
  const char* hex = "0123456789abcdef";
  for (int c = 0; c < 0x20; ++c) {
    const std::string in(1, static_cast<char>(c));
    std::string expected = "\"";
    if (named[c]) {
      expected += named[c];
    } else {
      expected += "\\u00";
      expected += hex[c >> 4];
      expected += hex[c & 15];
    }
    expected += "\"";
    EXPECT_EQ(json_str(in), expected) << "control char " << c;
  }
}

TEST(Canonical, QuoteBackslashEscapedAndEverythingElseRaw) {
  EXPECT_EQ(json_str("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_str("\x7f"), "\"\x7f\"");                   // DEL stays raw (strfry escapes it: wrong)
  EXPECT_EQ(json_str("/"), "\"/\"");                         // solidus raw
  EXPECT_EQ(json_str("\u2028\u2029"), "\"\u2028\u2029\"");   // line/paragraph separators raw
  EXPECT_EQ(json_str("é😀"), "\"é😀\"");                     // non-ASCII raw
  EXPECT_EQ(json_str(std::string("a\0b", 3)), "\"a\\u0000b\"");  // NUL escaped, never a terminator
}

Event base_event() {
  Event ev;
  decode_lower_hex("7776c32d4b1d1e8bf2a96babeb43ad9ade157bd363d89b87fb63e6f145558888", ev.pubkey);
  ev.created_at = 1758991030;
  ev.kind = 1;
  return ev;
}

TEST(Canonical, LayoutTagsAndKinds) {
  Event ev = base_event();
  std::string out;
  append_canonical(out, ev);
  EXPECT_EQ(out, "[0,\"7776c32d4b1d1e8bf2a96babeb43ad9ade157bd363d89b87fb63e6f145558888\",1758991030,1,[],\"\"]");
  ev.kind = 0;
  ev.tags = {{}, {"e"}, {"p", "x", ""}};
  ev.content = "hi";
  out.clear();
  append_canonical(out, ev);
  EXPECT_EQ(out, "[0,\"7776c32d4b1d1e8bf2a96babeb43ad9ade157bd363d89b87fb63e6f145558888\",1758991030,0,[[],[\"e\"],[\"p\",\"x\",\"\"]],\"hi\"]");
  ev.kind = 65535;
  ev.created_at = 0;
  ev.tags.clear();
  out.clear();
  append_canonical(out, ev);
  EXPECT_EQ(out, "[0,\"7776c32d4b1d1e8bf2a96babeb43ad9ade157bd363d89b87fb63e6f145558888\",0,65535,[],\"hi\"]");
}

// Input escapes are decoded before re-serialization: \/ and \u00e9 and surrogate pairs come out raw.
TEST(Canonical, InputEscapesAreDecodedFirst) {
  const std::string line =
      R"({"id":"0000000000000000000000000000000000000000000000000000000000000000",)"
      R"("pubkey":"7776c32d4b1d1e8bf2a96babeb43ad9ade157bd363d89b87fb63e6f145558888","created_at":5,"kind":1,)"
      R"("tags":[["t","a\/b"]],"content":"caf\u00e9 \ud83d\ude00 \u2028 \u007f \u0001 \/",)"
      R"("sig":"00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"})";
  EventParser parser;
  Event ev;
  ASSERT_FALSE(parser.parse(line, ev).has_value());
  EXPECT_EQ(ev.content, "café 😀 \u2028 \x7f \x01 /");
  std::string out;
  append_canonical(out, ev);
  EXPECT_EQ(out, "[0,\"7776c32d4b1d1e8bf2a96babeb43ad9ade157bd363d89b87fb63e6f145558888\",5,1,[[\"t\",\"a/b\"]],"
                 "\"café 😀 \u2028 \x7f \\u0001 /\"]");
}

TEST(Canonical, LargeContentAndKnownIdOfRealEvent) {
  Event ev = base_event();
  ev.content.assign(70 * 1024, 'x');
  ev.content[1000] = '\n';
  std::string out;
  append_canonical(out, ev);
  EXPECT_EQ(out.size(), 70 * 1024 + 1 /*escape*/ + 2 /*quotes*/ + out.find(",[],") + 4 + 1);

  // The first sample event: its id is the sha256 of our canonical form.
  const std::string line =
      R"({"id": "859501854a0e2b63383db18f187f8d2a7f988651793687215a6549f2da380528", "sig": "d693cca65af7df2619be909042f5b11a4e4bbe32932d5aa6ac22eb20c6e0551ab6e34690eddcbc76d893d64e60b6bf1c9838b02dea0eb1c05b38b28a700061cf", "kind": 7, "tags": [["e", "43f5606a0ceff70c40800855ffc24f2690d04c99d28a76cbdfdfe0c16737d7b4", "wss://relay.nostr.band/", "f9c8838736f5a0b611ed2c458a8ae7a480802e4ec38e52e96483986ca44ce612"], ["p", "f9c8838736f5a0b611ed2c458a8ae7a480802e4ec38e52e96483986ca44ce612"]], "pubkey": "7776c32d4b1d1e8bf2a96babeb43ad9ade157bd363d89b87fb63e6f145558888", "content": "🤙", "created_at": 1758991030})";
  EventParser parser;
  Event real;
  ASSERT_FALSE(parser.parse(line, real).has_value());
  std::string scratch;
  EXPECT_EQ(to_hex(compute_event_id(real, scratch)), "859501854a0e2b63383db18f187f8d2a7f988651793687215a6549f2da380528");
}

}  // namespace
}  // namespace pb

// The reused hasher must give the one-shot digest for every length (empty, one block, block boundaries,
// several blocks) and must not carry state from one call into the next.
TEST(Canonical, ReusedSha256HasherMatchesOneShot) {
  pb::Sha256Hasher hasher;
  for (std::size_t len : {0, 1, 55, 56, 63, 64, 65, 1000, 100000}) {
    std::vector<std::uint8_t> data(len);
    for (std::size_t i = 0; i < len; ++i) data[i] = static_cast<std::uint8_t>(i * 131 + len);
    EXPECT_EQ(hasher.digest(data), pb::sha256(data)) << len;
    EXPECT_EQ(hasher.digest(data), pb::sha256(data)) << len << " (second use)";
  }
  // FIPS 180-2 test vector "abc".
  const std::string abc = "abc";
  EXPECT_EQ(pb::to_hex(hasher.digest({reinterpret_cast<const std::uint8_t*>(abc.data()), abc.size()})),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
