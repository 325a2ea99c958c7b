// NIP-42: answers a relay's AUTH challenge with a kind-22242 event signed by a throwaway key (made once
// per process; the daemon has no identity of its own).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

struct secp256k1_context_struct;

namespace pb::daemon {

class Nip42Signer {
 public:
  Nip42Signer();  // a random key
  ~Nip42Signer();
  Nip42Signer(const Nip42Signer&) = delete;
  Nip42Signer& operator=(const Nip42Signer&) = delete;

  // ["AUTH", {kind 22242, tags [["relay", url], ["challenge", challenge]]}]
  std::string auth_message(const std::string& relay_url, const std::string& challenge, std::int64_t now);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace pb::daemon
