// SHA-256 (OpenSSL) and BIP-340 Schnorr verification (libsecp256k1).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "nostr/event.hpp"

struct secp256k1_context_struct;
struct evp_md_st;
struct evp_md_ctx_st;

namespace pb {

// One-shot SHA-256, for cold paths.
Id32 sha256(std::span<const std::uint8_t> data);

// SHA-256 for hot paths (event ids, tag keys). OpenSSL 3's one-shot SHA256() looks the algorithm up on
// every call, under a lock (~0.5 us of a 40-byte hash); this object fetches it once and reuses one
// context. Create one per thread and reuse it, like SchnorrVerifier.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(Sha256Hasher&&) noexcept;
  Sha256Hasher& operator=(Sha256Hasher&&) noexcept;
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  Id32 digest(std::span<const std::uint8_t> data);

 private:
  struct MdDeleter {
    void operator()(evp_md_st* md) const;
  };
  struct CtxDeleter {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_st, MdDeleter> md_;
  std::unique_ptr<evp_md_ctx_st, CtxDeleter> ctx_;
};

// Owns one libsecp256k1 context. Create one per thread and reuse it: context creation is far more
// expensive than a verify.
class SchnorrVerifier {
 public:
  // `pubkey_cache_slots` > 0 keeps that many parsed public keys (direct-mapped): parsing an x-only key
  // costs a field square root, and archives see the same authors over and over.
  explicit SchnorrVerifier(std::size_t pubkey_cache_slots = 0);
  ~SchnorrVerifier();
  SchnorrVerifier(SchnorrVerifier&&) noexcept;
  SchnorrVerifier& operator=(SchnorrVerifier&&) noexcept;
  SchnorrVerifier(const SchnorrVerifier&) = delete;
  SchnorrVerifier& operator=(const SchnorrVerifier&) = delete;

  // BIP-340 verify of `sig` over a message of any length under the x-only public key.
  // False for an invalid key (not on the curve) as well as a wrong signature.
  bool verify(std::span<const std::uint8_t, 64> sig, std::span<const std::uint8_t> msg,
              std::span<const std::uint8_t, 32> xonly_pubkey) const;

 private:
  struct ContextDeleter {
    void operator()(secp256k1_context_struct* ctx) const;
  };
  std::unique_ptr<secp256k1_context_struct, ContextDeleter> ctx_;
  struct CachedKey {
    Id32 xonly{};
    std::array<std::uint8_t, 64> parsed{};  // secp256k1_xonly_pubkey
    bool valid = false;                     // false: slot empty (invalid keys are never cached)
  };
  mutable std::vector<CachedKey> cache_;
};

}  // namespace pb
