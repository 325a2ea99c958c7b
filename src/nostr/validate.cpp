#include "nostr/validate.hpp"

#include "nostr/canonical.hpp"
#include "nostr/hex.hpp"

namespace pb {

std::optional<Rejection> EventValidator::check_id(const Event& ev) {
  id_verified_ = false;
  if (!options_.check_ids) return std::nullopt;
  computed_id_ = compute_event_id(ev, scratch_, hasher_);
  if (computed_id_ != ev.id) {
    return Rejection{RejectCategory::invalid_event_id,
                     "id does not match the sha256 of the canonical serialization (computed " +
                         to_hex(computed_id_) + ")"};
  }
  id_verified_ = true;
  return std::nullopt;
}

std::optional<Rejection> EventValidator::check_signature(const Event& ev) {
  if (!options_.check_signatures) return std::nullopt;
  // The signature must cover the id computed from the content, never just the claimed one.
  if (!id_verified_) computed_id_ = compute_event_id(ev, scratch_, hasher_);
  id_verified_ = false;
  if (!verifier_.verify(ev.sig, computed_id_, ev.pubkey)) {
    return Rejection{RejectCategory::invalid_signature,
                     computed_id_ == ev.id ? "BIP-340 signature does not verify for this pubkey"
                                           : "signature does not verify against the event's computed id"};
  }
  return std::nullopt;
}

std::optional<Rejection> EventValidator::validate(const Event& ev) {
  if (auto r = check_id(ev)) return r;
  return check_signature(ev);
}

}  // namespace pb
