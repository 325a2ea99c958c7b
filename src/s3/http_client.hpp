// One HTTP exchange over a reused libcurl easy handle (one per thread: handles are not shareable).
// No retries here: s3_client decides what to retry, because only it knows how to replay a request.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

namespace pb::s3 {

struct HttpRequest {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::span<const std::uint8_t> body;  // sent as-is with a Content-Length (PUT, POST)
  // When >= 0, a 2xx response body is written to this descriptor (at its current offset) instead of
  // HttpResponse::body; error bodies always land in HttpResponse::body.
  int sink_fd = -1;
  // The Range start asked for: when the server answers 200 (the whole object) instead of 206, the
  // sink (opened O_APPEND) is truncated first.
  std::uint64_t sink_range_start = 0;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::uint64_t sunk_bytes = 0;  // bytes written to sink_fd

  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// The request never got a complete answer: connection refused or reset, timeout, DNS, TLS.
class TransportError : public std::runtime_error {
 public:
  TransportError(const std::string& what, bool retryable) : std::runtime_error(what), retryable_(retryable) {}
  bool retryable() const { return retryable_; }

 private:
  bool retryable_;
};

struct HttpTimeouts {
  long connect_s = 10;
  long stall_s = 60;  // abort when fewer than 1 byte/s moved for this long (no overall limit: big files)
};

class HttpClient {
 public:
  // `progress` (may be null) is advanced by every body byte sent or received. A stop requested on `stop`
  // aborts the exchange in flight within about a second (TransportError "cancelled", not retryable).
  explicit HttpClient(HttpTimeouts timeouts = {}, std::atomic<std::uint64_t>* progress = nullptr,
                      std::stop_token stop = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Throws TransportError; any HTTP status (also 4xx/5xx) is a response.
  HttpResponse perform(const HttpRequest& req);

 private:
  struct CurlDeleter {
    void operator()(void* h) const;
  };
  std::unique_ptr<void, CurlDeleter> curl_;
  HttpTimeouts timeouts_;
  std::atomic<std::uint64_t>* progress_;
  std::stop_token stop_;
};

}  // namespace pb::s3
