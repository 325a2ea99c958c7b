#include "s3/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <stdexcept>

#include <fmt/format.h>

#include "nostr/hex.hpp"

namespace pb::s3 {
namespace {

using Digest = std::array<std::uint8_t, 32>;

Digest hmac(std::span<const std::uint8_t> key, std::string_view msg) {
  Digest out{};
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
            msg.size(), out.data(), &len))
    throw std::runtime_error("HMAC-SHA256 failed");
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Header values are trimmed and inner runs of spaces collapse to one (SigV4's canonical form).
std::string trim_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Every signed header, lower-cased and sorted: host, x-amz-date, x-amz-content-sha256, token, extras.
Params all_signed_headers(const SigningInput& in, std::string_view token) {
  Params h;
  h.emplace_back("host", std::string(in.host));
  h.emplace_back("x-amz-content-sha256", std::string(in.payload_sha256));
  h.emplace_back("x-amz-date", std::string(in.amz_date));
  if (!token.empty()) h.emplace_back("x-amz-security-token", std::string(token));
  for (const auto& [k, v] : in.headers) h.emplace_back(lower(k), trim_value(v));
  std::sort(h.begin(), h.end());
  return h;
}

std::string signed_header_names(const Params& h) {
  std::string names;
  for (const auto& [k, v] : h) {
    if (!names.empty()) names += ';';
    names += k;
  }
  return names;
}

std::string canonical_request_with(const SigningInput& in, const Params& h) {
  std::string cr = fmt::format("{}\n{}\n{}\n", in.method, in.path, canonical_query(in.query));
  for (const auto& [k, v] : h) cr += fmt::format("{}:{}\n", k, v);
  cr += fmt::format("\n{}\n{}", signed_header_names(h), in.payload_sha256);
  return cr;
}

std::string scope_of(const SigningInput& in) {
  return fmt::format("{}/{}/s3/aws4_request", in.amz_date.substr(0, 8), in.region);
}

std::string string_to_sign_with(const SigningInput& in, const Params& h) {
  return fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", in.amz_date, scope_of(in), sha256_hex(canonical_request_with(in, h)));
}

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

std::string uri_encode(std::string_view s, bool encode_slash) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encode_slash)) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string canonical_query(const Params& query) {
  Params enc;
  for (const auto& [k, v] : query) enc.emplace_back(uri_encode(k, true), uri_encode(v, true));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out += '&';
    out += k + '=' + v;
  }
  return out;
}

std::string canonical_request(const SigningInput& in) { return canonical_request_with(in, all_signed_headers(in, {})); }
std::string string_to_sign(const SigningInput& in) { return string_to_sign_with(in, all_signed_headers(in, {})); }

SignedHeaders sign(const SigningInput& in, const Credentials& creds) {
  const Params h = all_signed_headers(in, creds.session_token);
  const std::string secret = "AWS4" + creds.secret_access_key;
  const Digest k_date = hmac(bytes(secret), in.amz_date.substr(0, 8));
  const Digest k_region = hmac(k_date, in.region);
  const Digest k_service = hmac(k_region, "s3");
  const Digest k_signing = hmac(k_service, "aws4_request");
  const Digest sig = hmac(k_signing, string_to_sign_with(in, h));

  SignedHeaders out;
  for (const auto& [k, v] : h)
    if (k == "host" || k == "x-amz-date" || k == "x-amz-content-sha256" || k == "x-amz-security-token")
      out.headers.emplace_back(k, v);
  out.headers.emplace_back("authorization",
                           fmt::format("AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
                                       creds.access_key_id, scope_of(in), signed_header_names(h), to_hex(sig)));
  return out;
}

std::string amz_date_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string sha256_hex(std::span<const std::uint8_t> data) {
  Digest d{};
  SHA256(data.data(), data.size(), d.data());
  return to_hex(d);
}

}  // namespace pb::s3
