#include "daemon/nip42_auth.hpp"

#include <stdexcept>

#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include "nostr/canonical.hpp"
#include "nostr/event.hpp"
#include "nostr/json_writer.hpp"

namespace pb::daemon {

struct Nip42Signer::Ctx {
  secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  secp256k1_keypair keypair{};
  Id32 pubkey{};
  ~Ctx() { secp256k1_context_destroy(ctx); }
};

Nip42Signer::Nip42Signer() : ctx_(std::make_unique<Ctx>()) {
  std::array<unsigned char, 32> seckey{};
  do {
    if (RAND_bytes(seckey.data(), static_cast<int>(seckey.size())) != 1) throw std::runtime_error("no randomness for the NIP-42 key");
  } while (!secp256k1_keypair_create(ctx_->ctx, &ctx_->keypair, seckey.data()));
  secp256k1_xonly_pubkey xonly;
  if (!secp256k1_keypair_xonly_pub(ctx_->ctx, &xonly, nullptr, &ctx_->keypair) ||
      !secp256k1_xonly_pubkey_serialize(ctx_->ctx, ctx_->pubkey.data(), &xonly))
    throw std::runtime_error("NIP-42 key derivation failed");
}

Nip42Signer::~Nip42Signer() = default;

std::string Nip42Signer::auth_message(const std::string& relay_url, const std::string& challenge, std::int64_t now) {
  Event ev;
  ev.pubkey = ctx_->pubkey;
  ev.created_at = now;
  ev.kind = 22242;
  ev.tags = {{"relay", relay_url}, {"challenge", challenge}};
  std::string scratch;
  ev.id = compute_event_id(ev, scratch);
  if (!secp256k1_schnorrsig_sign32(ctx_->ctx, ev.sig.data(), ev.id.data(), &ctx_->keypair, nullptr))
    throw std::runtime_error("NIP-42 signing failed");
  std::string out = "[\"AUTH\",";
  append_event_json(out, ev);
  return out + "]";
}

}  // namespace pb::daemon
