// The S3 operations Proton Beam needs, signed with our SigV4 and retried with exponential backoff and
// full jitter on 5xx, 429, RequestTimeout and transport failures (timeouts, resets); never on other 4xx.
// One client = one curl handle = one thread; parallel transfers use one client each.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include "s3/aws_config.hpp"
#include "s3/http_client.hpp"

namespace pb::s3 {

struct RetryPolicy {
  int max_attempts = 6;
  std::chrono::milliseconds base{250};  // attempt n waits a random time in [0, min(cap, base * 2^n)]
  std::chrono::milliseconds cap{10'000};
};

struct ClientOptions {
  RetryPolicy retry;
  HttpTimeouts timeouts;
  std::atomic<std::uint64_t>* progress = nullptr;       // body bytes moved, for progress lines
  std::function<void(const std::string&)> on_warning;  // retries and tolerated failures
  int list_page_size = 0;                               // ListObjectsV2 max-keys; 0: the server's (1000)
  // A stop requested here aborts the request in flight and any retry wait: the operation then throws
  // S3Error with code "Cancelled" (a multipart upload keeps its state, so the next run resumes it).
  std::stop_token stop;
};

// A request that failed for good. The message names the operation, the key, the HTTP status and S3's
// error code and message, never credentials.
class S3Error : public std::runtime_error {
 public:
  S3Error(const std::string& what, long status, std::string code)
      : std::runtime_error(what), status_(status), code_(std::move(code)) {}
  long status() const { return status_; }
  const std::string& code() const { return code_; }

 private:
  long status_;
  std::string code_;
};

struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;    // without quotes
  std::string sha256;  // x-amz-meta-sha256 (HEAD only; empty when absent)
};

struct CompletedPart {
  int number;
  std::string etag;  // as the server returned it (with quotes)
};

class S3Client {
 public:
  S3Client(AwsConfig cfg, std::string bucket, ClientOptions opt);

  // Every object under `prefix`, following continuation tokens.
  std::vector<ObjectInfo> list_objects(const std::string& prefix);
  // nullopt when the object does not exist.
  std::optional<ObjectInfo> head_object(const std::string& key);
  void put_object(const std::string& key, std::span<const std::uint8_t> body, const std::string& sha256_hex);

  std::string create_multipart_upload(const std::string& key, const std::string& sha256_hex);
  std::string upload_part(const std::string& key, const std::string& upload_id, int number, std::span<const std::uint8_t> body);
  void complete_multipart_upload(const std::string& key, const std::string& upload_id, const std::vector<CompletedPart>& parts);
  void abort_multipart_upload(const std::string& key, const std::string& upload_id);

  // Appends the object to `partial` from its current size (a Range GET), so an interrupted download
  // resumes; a partial longer than the object starts over. Returns the object's response headers'
  // x-amz-meta-sha256 (empty when absent).
  std::string get_object(const std::string& key, const std::filesystem::path& partial, std::uint64_t size);

  const std::string& bucket() const { return bucket_; }
  const ClientOptions& options() const { return opt_; }
  const AwsConfig& config() const { return cfg_; }

 private:
  struct Op {
    std::string method;
    std::string key;  // empty: the bucket itself
    Params query;
    Params headers;   // signed besides the SigV4 ones
    std::span<const std::uint8_t> body;
    std::string what;  // "PUT key", for messages
  };
  HttpResponse attempt(const Op& op, int sink_fd = -1, std::uint64_t range_start = 0);
  HttpResponse send(const Op& op);
  bool retry_after(const Op& op, int attempt, const std::string& why);
  [[noreturn]] void give_up(const Op& op, const TransportError& e, int attempts) const;
  [[noreturn]] void fail(const Op& op, const HttpResponse& r) const;

  AwsConfig cfg_;
  std::string bucket_;
  ClientOptions opt_;
  HttpClient http_;
  std::string scheme_host_;  // scheme://host[:port]
  std::string host_;
  bool path_style_;
  std::mt19937_64 rng_;
};

// Retryable HTTP statuses: 5xx and 429 (S3's SlowDown is 503).
bool retryable_status(long status);

}  // namespace pb::s3
