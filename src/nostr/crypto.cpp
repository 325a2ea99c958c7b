#include "nostr/crypto.hpp"

#include <cstring>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

namespace pb {

Id32 sha256(std::span<const std::uint8_t> data) {
  Id32 out;
  SHA256(data.data(), data.size(), out.data());
  return out;
}

void Sha256Hasher::MdDeleter::operator()(evp_md_st* md) const { EVP_MD_free(md); }
void Sha256Hasher::CtxDeleter::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Sha256Hasher::Sha256Hasher() : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {
  if (!md_ || !ctx_) throw std::runtime_error("OpenSSL: cannot set up SHA-256");
}
Sha256Hasher::~Sha256Hasher() = default;
Sha256Hasher::Sha256Hasher(Sha256Hasher&&) noexcept = default;
Sha256Hasher& Sha256Hasher::operator=(Sha256Hasher&&) noexcept = default;

Id32 Sha256Hasher::digest(std::span<const std::uint8_t> data) {
  Id32 out;
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(ctx_.get(), md_.get(), nullptr) != 1 || EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx_.get(), out.data(), &len) != 1 || len != out.size())
    throw std::runtime_error("OpenSSL: SHA-256 failed");
  return out;
}

void SchnorrVerifier::ContextDeleter::operator()(secp256k1_context_struct* ctx) const {
  secp256k1_context_destroy(ctx);
}

SchnorrVerifier::SchnorrVerifier(std::size_t pubkey_cache_slots)
    : ctx_(secp256k1_context_create(SECP256K1_CONTEXT_NONE)), cache_(pubkey_cache_slots) {
  if (!ctx_) throw std::runtime_error("secp256k1_context_create failed");
}
SchnorrVerifier::~SchnorrVerifier() = default;
SchnorrVerifier::SchnorrVerifier(SchnorrVerifier&&) noexcept = default;
SchnorrVerifier& SchnorrVerifier::operator=(SchnorrVerifier&&) noexcept = default;

bool SchnorrVerifier::verify(std::span<const std::uint8_t, 64> sig, std::span<const std::uint8_t> msg,
                             std::span<const std::uint8_t, 32> xonly_pubkey) const {
  secp256k1_xonly_pubkey pk;
  static_assert(sizeof pk == sizeof(CachedKey::parsed));
  CachedKey* slot = nullptr;
  if (!cache_.empty()) {
    std::uint64_t h;
    std::memcpy(&h, xonly_pubkey.data(), sizeof h);  // keys are uniformly distributed bytes
    slot = &cache_[h % cache_.size()];
    if (slot->valid && std::memcmp(slot->xonly.data(), xonly_pubkey.data(), 32) == 0) {
      std::memcpy(&pk, slot->parsed.data(), sizeof pk);
      return secp256k1_schnorrsig_verify(ctx_.get(), sig.data(), msg.data(), msg.size(), &pk) == 1;
    }
  }
  if (!secp256k1_xonly_pubkey_parse(ctx_.get(), &pk, xonly_pubkey.data())) return false;
  if (slot) {
    std::memcpy(slot->xonly.data(), xonly_pubkey.data(), 32);
    std::memcpy(slot->parsed.data(), &pk, sizeof pk);
    slot->valid = true;
  }
  return secp256k1_schnorrsig_verify(ctx_.get(), sig.data(), msg.data(), msg.size(), &pk) == 1;
}

}  // namespace pb
