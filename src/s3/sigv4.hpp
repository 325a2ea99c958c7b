// AWS Signature Version 4 for S3, our own over OpenSSL. Why not CURLOPT_AWS_SIGV4: Debian's curl 7.88
// signs the query string unsorted and without `=` on value-less parameters (fixed upstream in 8.3.0),
// and adds no x-amz-content-sha256, so its signatures fail on real S3 for multipart and listing.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pb::s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: none (long-term keys)
};

using Params = std::vector<std::pair<std::string, std::string>>;

// What a request looks like to the signer. The caller sends exactly `path` and canonical_query(query)
// on the wire, plus every header in `headers` and the ones sign() returns.
struct SigningInput {
  std::string_view method;
  std::string_view host;           // the Host header as sent (with :port when not the scheme's default)
  std::string_view path;           // already URI-encoded (uri_encode(key, false)), starting with '/'
  Params query;                    // decoded names and values
  Params headers;                  // extra headers to sign, e.g. x-amz-meta-sha256, range
  std::string_view payload_sha256; // hex sha256 of the body, or "UNSIGNED-PAYLOAD"
  std::string_view amz_date;       // YYYYMMDD'T'HHMMSS'Z'
  std::string_view region;
};

// RFC 3986 unreserved characters stay, everything else becomes %XX (upper case); '/' stays when
// !encode_slash (object key paths) and is encoded in query names and values.
std::string uri_encode(std::string_view s, bool encode_slash);
// name=value pairs encoded, sorted by name then value, joined with '&' (value-less: "name=").
std::string canonical_query(const Params& query);
std::string canonical_request(const SigningInput& in);
std::string string_to_sign(const SigningInput& in);

struct SignedHeaders {
  // host, x-amz-date, x-amz-content-sha256, [x-amz-security-token], authorization: to send besides
  // the SigningInput::headers the caller sends itself.
  Params headers;
};
SignedHeaders sign(const SigningInput& in, const Credentials& creds);

// The current UTC time as an x-amz-date value.
std::string amz_date_now();

std::string sha256_hex(std::span<const std::uint8_t> data);
inline std::string sha256_hex(std::string_view s) {
  return sha256_hex(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}
inline constexpr std::string_view kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace pb::s3
