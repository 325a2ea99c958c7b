// All BIP-340 vectors through our verify wrapper, variable-length messages included.
#include <gtest/gtest.h>

#include <sstream>

#include "nostr/crypto.hpp"
#include "nostr/hex.hpp"
#include "test_support.hpp"

namespace pb {
namespace {

std::vector<std::uint8_t> unhex(const std::string& s) {
  std::vector<std::uint8_t> out(s.size() / 2);
  EXPECT_TRUE(decode_hex_any_case(s, out)) << s;
  return out;
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> cols;
  std::stringstream ss(line);
  for (std::string c; std::getline(ss, c, ',');) cols.push_back(c);
  if (!line.empty() && line.back() == ',') cols.emplace_back();
  return cols;
}

TEST(Bip340, AllVectorsVerifyAsSpecified) {
  const auto lines = test::read_lines(test::data_path("bip340-test-vectors.csv"));
  ASSERT_GT(lines.size(), 1u);
  SchnorrVerifier verifier;
  int checked = 0, variable_length = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    const auto cols = split_csv(lines[i]);
    ASSERT_GE(cols.size(), 7u) << lines[i];
    const auto pubkey = unhex(cols[2]);
    const auto msg = unhex(cols[4]);
    const auto sig = unhex(cols[5]);
    const bool expected = cols[6] == "TRUE";
    ASSERT_EQ(pubkey.size(), 32u);
    ASSERT_EQ(sig.size(), 64u);
    if (msg.size() != 32) ++variable_length;
    const bool got = verifier.verify(std::span<const std::uint8_t, 64>(sig.data(), 64), msg,
                                     std::span<const std::uint8_t, 32>(pubkey.data(), 32));
    EXPECT_EQ(got, expected) << "vector " << cols[0] << " (" << (cols.size() > 7 ? cols[7] : "") << ")";
    ++checked;
  }
  EXPECT_EQ(checked, 19);
  EXPECT_GE(variable_length, 4);  // vectors 15..18: empty, 1, 17 and 100-byte messages
}

// The parsed-key cache must never change a verdict: run every vector three times through a tiny cache
// (hits, misses and evictions, invalid keys included) and compare with the uncached verifier.
TEST(Bip340, PubkeyCacheNeverChangesAVerdict) {
  const auto lines = test::read_lines(test::data_path("bip340-test-vectors.csv"));
  SchnorrVerifier plain;
  SchnorrVerifier cached(3);
  int checked = 0;
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 1; i < lines.size(); ++i) {
      if (lines[i].empty()) continue;
      const auto cols = split_csv(lines[i]);
      const auto pubkey = unhex(cols[2]);
      const auto msg = unhex(cols[4]);
      const auto sig = unhex(cols[5]);
      const std::span<const std::uint8_t, 64> s(sig.data(), 64);
      const std::span<const std::uint8_t, 32> pk(pubkey.data(), 32);
      EXPECT_EQ(cached.verify(s, msg, pk), plain.verify(s, msg, pk)) << "vector " << cols[0] << " round " << round;
      EXPECT_EQ(cached.verify(s, msg, pk), cols[6] == "TRUE") << "vector " << cols[0] << " (cache hit)";
      ++checked;
    }
  }
  EXPECT_EQ(checked, 57);
}

TEST(Bip340, TamperedSignatureFails) {
  const auto cols = split_csv(test::read_lines(test::data_path("bip340-test-vectors.csv"))[2]);
  auto pubkey = unhex(cols[2]);
  auto msg = unhex(cols[4]);
  auto sig = unhex(cols[5]);
  SchnorrVerifier v;
  auto run = [&] {
    return v.verify(std::span<const std::uint8_t, 64>(sig.data(), 64), msg,
                    std::span<const std::uint8_t, 32>(pubkey.data(), 32));
  };
  ASSERT_TRUE(run());
  for (std::size_t byte : {0u, 31u, 32u, 63u}) {
    sig[byte] ^= 1;
    EXPECT_FALSE(run()) << "flip in sig byte " << byte;
    sig[byte] ^= 1;
  }
  msg[0] ^= 0x80;
  EXPECT_FALSE(run());
}

}  // namespace
}  // namespace pb
