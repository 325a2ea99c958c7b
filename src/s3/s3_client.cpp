#include "s3/s3_client.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>

#include <fmt/format.h>

#include "base/posix_file.hpp"
#include "s3/xml_extract.hpp"

namespace pb::s3 {
namespace {

std::string unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

std::uint64_t to_u64(const std::string& s) {
  try {
    return std::stoull(s);
  } catch (const std::exception&) {
    return 0;
  }
}

// Sleeps for `d`, or less when a stop is requested meanwhile.
void sleep_unless_stopped(std::chrono::milliseconds d, const std::stop_token& stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait_for(lock, stop, d, [] { return false; });
}

S3Error cancelled(const std::string& what) { return S3Error(what + ": cancelled", 0, "Cancelled"); }

std::uint64_t fd_size(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

}  // namespace

bool retryable_status(long status) { return status >= 500 || status == 429; }

S3Client::S3Client(AwsConfig cfg, std::string bucket, ClientOptions opt)
    : cfg_(std::move(cfg)), bucket_(std::move(bucket)), opt_(std::move(opt)), http_(opt_.timeouts, opt_.progress, opt_.stop),
      rng_(std::random_device{}()) {
  // A dotted bucket name breaks the TLS wildcard of virtual-hosted addressing: path-style then.
  path_style_ = cfg_.path_style || bucket_.find('.') != std::string::npos;
  if (!cfg_.endpoint.empty()) {
    scheme_host_ = cfg_.endpoint;
    host_ = cfg_.endpoint.substr(cfg_.endpoint.find("//") + 2);
    if (host_.ends_with(":80") && cfg_.endpoint.starts_with("http://")) host_.resize(host_.size() - 3);
    if (host_.ends_with(":443") && cfg_.endpoint.starts_with("https://")) host_.resize(host_.size() - 4);
  } else {
    host_ = path_style_ ? fmt::format("s3.{}.amazonaws.com", cfg_.region)
                        : fmt::format("{}.s3.{}.amazonaws.com", bucket_, cfg_.region);
    scheme_host_ = "https://" + host_;
  }
}

HttpResponse S3Client::attempt(const Op& op, int sink_fd, std::uint64_t range_start) {
  std::string path = path_style_ ? "/" + bucket_ : "";
  if (!op.key.empty()) path += "/" + uri_encode(op.key, false);
  if (path.empty()) path = "/";
  const std::string payload = op.method == "PUT" || op.method == "POST" ? sha256_hex(op.body) : std::string(kEmptySha256);
  const std::string date = amz_date_now();
  SigningInput in{op.method, host_, path, op.query, op.headers, payload, date, cfg_.region};
  if (range_start > 0) in.headers.emplace_back("range", fmt::format("bytes={}-", range_start));
  const SignedHeaders signed_headers = sign(in, cfg_.credentials);

  HttpRequest req;
  req.method = op.method;
  req.url = scheme_host_ + path;
  if (!op.query.empty()) req.url += "?" + canonical_query(op.query);
  req.headers = in.headers;
  for (const auto& h : signed_headers.headers) req.headers.push_back(h);
  req.body = op.body;
  req.sink_fd = sink_fd;
  req.sink_range_start = range_start;
  return http_.perform(req);
}

bool S3Client::retry_after(const Op& op, int attempt, const std::string& why) {
  if (opt_.stop.stop_requested()) throw cancelled(op.what);
  if (attempt + 1 >= opt_.retry.max_attempts) return false;
  const auto ceiling = std::min<std::int64_t>(opt_.retry.cap.count(), opt_.retry.base.count() << std::min(attempt, 20));
  const auto wait = std::uniform_int_distribution<std::int64_t>(0, ceiling)(rng_);
  if (opt_.on_warning)
    opt_.on_warning(fmt::format("{}: {}; retry {}/{} in {} ms", op.what, why, attempt + 1, opt_.retry.max_attempts - 1, wait));
  sleep_unless_stopped(std::chrono::milliseconds(wait), opt_.stop);
  if (opt_.stop.stop_requested()) throw cancelled(op.what);
  return true;
}

void S3Client::give_up(const Op& op, const TransportError& e, int attempts) const {
  if (opt_.stop.stop_requested()) throw cancelled(op.what);
  throw S3Error(fmt::format("{} {}: {} (after {} attempts)", op.what, bucket_, e.what(), attempts), 0, "Transport");
}

void S3Client::fail(const Op& op, const HttpResponse& r) const {
  std::string code = xml_first(r.body, "Code").value_or("");
  std::string message = xml_first(r.body, "Message").value_or("");
  if (code.empty() && r.status == 404) code = op.key.empty() ? "NoSuchBucket" : "NotFound";
  std::string hint;
  if (code == "NoSuchBucket") hint = fmt::format(" (bucket '{}' does not exist at {})", bucket_, scheme_host_);
  if (code == "AccessDenied" || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || r.status == 403)
    hint = fmt::format(" (check the credentials from {}, the region '{}' and the endpoint)", cfg_.credential_source, cfg_.region);
  throw S3Error(fmt::format("{} {}: HTTP {}{}{}{}", op.what, bucket_, r.status, code.empty() ? "" : " " + code,
                            message.empty() ? "" : ": " + message, hint),
                r.status, code);
}

HttpResponse S3Client::send(const Op& op) {
  for (int n = 0;; ++n) {
    try {
      HttpResponse r = attempt(op);
      if (r.status >= 200 && r.status <= 299) return r;
      const std::string code = xml_first(r.body, "Code").value_or("");
      if ((retryable_status(r.status) || code == "RequestTimeout") &&
          retry_after(op, n, fmt::format("HTTP {}{}", r.status, code.empty() ? "" : " " + code)))
        continue;
      fail(op, r);
    } catch (const TransportError& e) {
      if (e.retryable() && retry_after(op, n, e.what())) continue;
      give_up(op, e, n + 1);
    }
  }
}

std::vector<ObjectInfo> S3Client::list_objects(const std::string& prefix) {
  std::vector<ObjectInfo> out;
  std::string token;
  for (;;) {
    Op op{"GET", "", {{"list-type", "2"}, {"prefix", prefix}}, {}, {}, "ListObjectsV2 " + prefix};
    if (opt_.list_page_size > 0) op.query.emplace_back("max-keys", std::to_string(opt_.list_page_size));
    if (!token.empty()) op.query.emplace_back("continuation-token", token);
    const HttpResponse r = send(op);
    for (std::string_view c : xml_elements(r.body, "Contents")) {
      ObjectInfo o;
      o.key = xml_first(c, "Key").value_or("");
      o.size = to_u64(xml_first(c, "Size").value_or("0"));
      o.etag = unquote(xml_first(c, "ETag").value_or(""));
      out.push_back(std::move(o));
    }
    if (xml_first(r.body, "IsTruncated").value_or("false") != "true") break;
    token = xml_first(r.body, "NextContinuationToken").value_or("");
    if (token.empty()) throw S3Error("ListObjectsV2: truncated listing without a continuation token", r.status, "");
  }
  return out;
}

std::optional<ObjectInfo> S3Client::head_object(const std::string& key) {
  const Op op{"HEAD", key, {}, {}, {}, "HEAD " + key};
  try {
    const HttpResponse r = send(op);
    return ObjectInfo{key, to_u64(r.header("content-length")), unquote(r.header("etag")), r.header("x-amz-meta-sha256")};
  } catch (const S3Error& e) {
    if (e.status() == 404 && e.code() != "NoSuchBucket") return std::nullopt;
    throw;
  }
}

void S3Client::put_object(const std::string& key, std::span<const std::uint8_t> body, const std::string& sha256) {
  send(Op{"PUT", key, {}, {{"x-amz-meta-sha256", sha256}}, body, "PUT " + key});
}

std::string S3Client::create_multipart_upload(const std::string& key, const std::string& sha256) {
  const Op op{"POST", key, {{"uploads", ""}}, {{"x-amz-meta-sha256", sha256}}, {}, "CreateMultipartUpload " + key};
  const HttpResponse r = send(op);
  auto id = xml_first(r.body, "UploadId");
  if (!id || id->empty()) throw S3Error(op.what + ": no UploadId in the answer", r.status, "");
  return *id;
}

std::string S3Client::upload_part(const std::string& key, const std::string& upload_id, int number,
                                  std::span<const std::uint8_t> body) {
  const Op op{"PUT", key, {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}}, {}, body,
              fmt::format("UploadPart {} part {}", key, number)};
  const HttpResponse r = send(op);
  std::string etag = r.header("etag");
  if (etag.empty()) throw S3Error(op.what + ": no ETag in the answer", r.status, "");
  return etag;
}

void S3Client::complete_multipart_upload(const std::string& key, const std::string& upload_id,
                                         const std::vector<CompletedPart>& parts) {
  std::string xml = "<CompleteMultipartUpload>";
  for (const auto& p : parts)
    xml += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", p.number, xml_escape(p.etag));
  xml += "</CompleteMultipartUpload>";
  const auto body = std::span(reinterpret_cast<const std::uint8_t*>(xml.data()), xml.size());
  const Op op{"POST", key, {{"uploadId", upload_id}}, {}, body, "CompleteMultipartUpload " + key};
  // S3 may answer 200 and still fail (an <Error> body after a long wait): retried like a 5xx.
  for (int n = 0;; ++n) {
    const HttpResponse r = send(op);
    if (r.body.find("<Error>") == std::string::npos) return;
    if (!retry_after(op, n, "error in a 200 answer: " + xml_first(r.body, "Code").value_or("?"))) fail(op, r);
  }
}

void S3Client::abort_multipart_upload(const std::string& key, const std::string& upload_id) {
  send(Op{"DELETE", key, {{"uploadId", upload_id}}, {}, {}, "AbortMultipartUpload " + key});
}

std::string S3Client::get_object(const std::string& key, const std::filesystem::path& partial, std::uint64_t size) {
  const UniqueFd fd = open_or_throw(partial, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC);
  const Op op{"GET", key, {}, {}, {}, "GET " + key};
  for (int n = 0;; ++n) {
    std::uint64_t have = fd_size(fd.get());
    if (have > size) {
      truncate_to(partial, 0);  // the object changed since the partial was written: start over
      have = 0;
    }
    std::string sha;
    try {
      if (have == size && size > 0) {  // a previous run got every byte; only the checks were left
        const std::optional<ObjectInfo> info = head_object(key);
        if (!info) throw S3Error(op.what + ": the object disappeared", 404, "NoSuchKey");
        return info->sha256;
      }
      const HttpResponse r = attempt(op, fd.get(), have);
      if (r.status >= 200 && r.status <= 299) {
        if (fd_size(fd.get()) == size) return r.header("x-amz-meta-sha256");
        if (retry_after(op, n, fmt::format("short body ({} of {} bytes)", fd_size(fd.get()), size))) continue;
        throw S3Error(fmt::format("{}: got {} of {} bytes", op.what, fd_size(fd.get()), size), r.status, "ShortRead");
      }
      const std::string code = xml_first(r.body, "Code").value_or("");
      if ((retryable_status(r.status) || code == "RequestTimeout") && retry_after(op, n, fmt::format("HTTP {}", r.status)))
        continue;
      fail(op, r);
    } catch (const TransportError& e) {
      if (e.retryable() && retry_after(op, n, e.what())) continue;
      give_up(op, e, n + 1);
    }
  }
}

}  // namespace pb::s3
