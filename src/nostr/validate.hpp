// Cryptographic checks of a parsed event: the id against its canonical serialization, then the
// signature against that verified id (so nothing passes with a wrong id).
#pragma once

#include <optional>
#include <string>

#include "nostr/crypto.hpp"
#include "nostr/event.hpp"
#include "nostr/reject.hpp"

namespace pb {

struct ValidationOptions {
  bool check_ids = true;
  bool check_signatures = true;
};

// One per thread: owns a secp256k1 context and a scratch buffer.
class EventValidator {
 public:
  explicit EventValidator(ValidationOptions options = {}) : options_(options), verifier_(kPubkeyCacheSlots) {}

  const ValidationOptions& options() const { return options_; }

  // Checks the id (when enabled). Returns the rejection, or nullopt. Must run before check_signature.
  std::optional<Rejection> check_id(const Event& ev);

  // Checks the signature (when enabled) against the id computed from the content. With id checks
  // off, the computed id is still what is verified, so a wrong claimed id fails here instead.
  std::optional<Rejection> check_signature(const Event& ev);

  // Both, in order.
  std::optional<Rejection> validate(const Event& ev);

 private:
  static constexpr std::size_t kPubkeyCacheSlots = 4096;  // ~400 KB per validator
  ValidationOptions options_;
  SchnorrVerifier verifier_;
  Sha256Hasher hasher_;
  std::string scratch_;
  bool id_verified_ = false;  // set by check_id for the event it just checked
  Id32 computed_id_{};
};

}  // namespace pb
