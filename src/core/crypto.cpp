#include "core/crypto.hpp"

#include <stdexcept>

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

void SchnorrVerifier::ContextDeleter::operator()(secp256k1_context_struct* ctx) const {
  secp256k1_context_destroy(ctx);
}

SchnorrVerifier::SchnorrVerifier() : ctx_(secp256k1_context_create(SECP256K1_CONTEXT_NONE)) {
  if (!ctx_) throw std::runtime_error("secp256k1_context_create failed");
}
SchnorrVerifier::~SchnorrVerifier() = default;
SchnorrVerifier::SchnorrVerifier(SchnorrVerifier&&) noexcept = default;
SchnorrVerifier& SchnorrVerifier::operator=(SchnorrVerifier&&) noexcept = default;

bool SchnorrVerifier::verify(std::span<const std::uint8_t, 64> sig, std::span<const std::uint8_t> msg,
                             std::span<const std::uint8_t, 32> xonly_pubkey) const {
  secp256k1_xonly_pubkey pk;
  if (!secp256k1_xonly_pubkey_parse(ctx_.get(), &pk, xonly_pubkey.data())) return false;
  return secp256k1_schnorrsig_verify(ctx_.get(), sig.data(), msg.data(), msg.size(), &pk) == 1;
}

}  // namespace pb
