// Shared helper for the archive tests: an archive written through the real writer.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include "archive/writer.hpp"
#include "nostr/event.hpp"
#include "archive/proto_codec.hpp"
#include "nostr/canonical.hpp"

namespace pb::test {

// Stores `events` in `dir` in one transaction, sealing members at `member_bytes` of records so that
// day files hold many members. Fails the test if an event is refused (e.g. a duplicate id).
inline void write_archive(const std::filesystem::path& dir, const std::vector<Event>& events,
                          std::size_t member_bytes = 4096) {
  ArchiveWriterOptions o;
  o.member_bytes = member_bytes;
  o.fsync = false;
  ArchiveWriter w(dir, o);
  std::string rec;
  for (const auto& e : events) {
    rec.clear();
    append_record(rec, e);
    ASSERT_TRUE(w.add({e.id, e.pubkey, e.created_at, e.kind, rec, index_tags(e)}));
  }
  w.commit();
}

// Signs events with one fixed key (31 zero bytes, then `secret_byte`): their ids and signatures verify.
class Signer {
 public:
  explicit Signer(std::uint8_t secret_byte) : ctx_(secp256k1_context_create(SECP256K1_CONTEXT_NONE)) {
    std::array<std::uint8_t, 32> secret{};
    secret[31] = secret_byte;
    if (!secp256k1_keypair_create(ctx_, &kp_, secret.data())) throw std::runtime_error("keypair");
    secp256k1_xonly_pubkey xonly;
    if (!secp256k1_keypair_xonly_pub(ctx_, &xonly, nullptr, &kp_) ||
        !secp256k1_xonly_pubkey_serialize(ctx_, pubkey_.data(), &xonly))
      throw std::runtime_error("pubkey");
  }
  ~Signer() { secp256k1_context_destroy(ctx_); }
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;

  void sign(Event& e) {
    e.pubkey = pubkey_;
    e.id = compute_event_id(e, scratch_);
    if (!secp256k1_schnorrsig_sign32(ctx_, e.sig.data(), e.id.data(), &kp_, nullptr)) throw std::runtime_error("sign");
  }

 private:
  secp256k1_context* ctx_;
  secp256k1_keypair kp_{};
  Id32 pubkey_{};
  std::string scratch_;
};

}  // namespace pb::test
