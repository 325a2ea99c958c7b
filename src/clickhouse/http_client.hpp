// A ClickHouse HTTP interface client over libcurl: one connection (kept alive) per instance, so each
// sender thread owns one. Queries go in the URL, data in the request body (optionally gzip-compressed);
// every call is synchronous, so the status and the server's error text are known when it returns.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pb::ch {

struct Endpoint {
  std::string host = "localhost";
  int port = 8123;
  bool secure = false;     // HTTPS
  bool insecure_tls = false;  // skip certificate verification (self-signed test servers)
  std::string ca_file;        // PEM file of CA certificates to trust instead of the system's
  std::string user = "default";
  std::string password;
  std::string database = "nostr";
  std::vector<std::pair<std::string, std::string>> settings;  // extra URL parameters (server settings)
  std::chrono::seconds timeout{300};
};

struct HttpResponse {
  long status = 0;          // HTTP status, 0 when no response arrived
  int curl_code = 0;        // CURLcode, 0 = the exchange completed
  std::string curl_error;   // libcurl's message when curl_code != 0
  std::string body;
};

enum class Outcome { ok, transient, fatal };

// ok for 200; fatal for TLS and URL problems; transient for other connection failures, timeouts, 502/503/504 and server errors whose code
// means "try again" (too many parts, memory limit, timeouts, network errors, ...); fatal otherwise
// (syntax, unknown table, authentication, type errors: retrying cannot help).
Outcome classify(const HttpResponse& r);
// The "Code: N" of a ClickHouse error body, or -1.
int server_error_code(std::string_view body);
// One line describing a failed response: the server's message or libcurl's.
std::string describe_failure(const HttpResponse& r);

class ClickHouseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Process-wide libcurl initialisation: construct once in main() before any thread uses libcurl.
class CurlGlobal {
 public:
  CurlGlobal();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
};

class HttpClient {
 public:
  explicit HttpClient(Endpoint endpoint);
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  // POSTs `body` with `query` in the URL. `gzip_body`: the body is already gzip-compressed.
  HttpResponse post(std::string_view query, std::string_view body, bool gzip_body);
  // Runs a statement with no data; returns the result text or throws ClickHouseError with the message.
  std::string execute(std::string_view sql);

  const Endpoint& endpoint() const { return endpoint_; }

 private:
  std::string url_for(std::string_view query) const;
  struct Impl;
  Endpoint endpoint_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pb::ch
