#include "serve/nip11.hpp"

#include "serve/wire.hpp"

namespace pb::serve {

std::string nip11_document(const ServeOptions& o) {
  std::string out = "{\"name\":";
  append_json_string(out, o.name);
  out += ",\"description\":";
  append_json_string(out, o.description);
  if (!o.pubkey.empty()) {
    out += ",\"pubkey\":";
    append_json_string(out, o.pubkey);
  }
  if (!o.contact.empty()) {
    out += ",\"contact\":";
    append_json_string(out, o.contact);
  }
  out += ",\"software\":\"https://github.com/proton-beam/proton-beam\",\"version\":\"0.1.0\"";
  out += ",\"supported_nips\":[1,9,11,40,45]";
  out += ",\"limitation\":{";
  out += "\"max_message_length\":" + std::to_string(o.max_message_bytes);
  out += ",\"max_subscriptions\":" + std::to_string(o.max_subscriptions);
  out += ",\"max_filters\":" + std::to_string(o.max_filters);
  out += ",\"max_limit\":" + std::to_string(o.limits.max_limit);
  out += ",\"default_limit\":" + std::to_string(o.limits.default_limit);
  out += ",\"max_subid_length\":" + std::to_string(o.max_subid_length);
  out += ",\"auth_required\":false,\"payment_required\":false,\"restricted_writes\":true}";
  out += ",\"retention\":[],\"relay_countries\":[]}";
  return out;
}

}  // namespace pb::serve
