#include "s3/http_client.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace pb::s3 {
namespace {

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// State the curl callbacks of one exchange share.
struct Exchange {
  CURL* curl;
  const HttpRequest* req;
  HttpResponse* resp;
  std::size_t sent = 0;
  std::atomic<std::uint64_t>* progress;
  std::string sink_error;
  bool sink_checked = false;
};

std::size_t on_read(char* buf, std::size_t size, std::size_t n, void* ud) {
  auto* x = static_cast<Exchange*>(ud);
  const std::size_t len = std::min(size * n, x->req->body.size() - x->sent);
  std::memcpy(buf, x->req->body.data() + x->sent, len);
  x->sent += len;
  if (x->progress) *x->progress += len;
  return len;
}

// Rewinds the body when curl must resend it (a redirect or a reused connection that had closed).
int on_seek(void* ud, curl_off_t offset, int origin) {
  auto* x = static_cast<Exchange*>(ud);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::size_t>(offset) > x->req->body.size()) return CURL_SEEKFUNC_FAIL;
  x->sent = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

std::size_t on_write(char* data, std::size_t size, std::size_t n, void* ud) {
  auto* x = static_cast<Exchange*>(ud);
  const std::size_t len = size * n;
  long status = 0;
  curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
  if (x->req->sink_fd < 0 || status < 200 || status > 299) {
    x->resp->body.append(data, len);
    return len;
  }
  if (!x->sink_checked) {
    x->sink_checked = true;
    if (status == 200 && x->req->sink_range_start > 0 && ::ftruncate(x->req->sink_fd, 0) != 0) {
      x->sink_error = std::strerror(errno);
      return 0;
    }
  }
  std::size_t done = 0;
  while (done < len) {
    const ssize_t w = ::write(x->req->sink_fd, data + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      x->sink_error = std::strerror(errno);
      return 0;  // makes curl fail with CURLE_WRITE_ERROR
    }
    done += static_cast<std::size_t>(w);
  }
  x->resp->sunk_bytes += len;
  if (x->progress) *x->progress += len;
  return len;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* ud) {
  auto* x = static_cast<Exchange*>(ud);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) x->resp->headers.clear();  // a 100 Continue or redirect came first
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
    x->resp->headers[name] = std::string(v);
  }
  return size * n;
}

// Called by curl about once a second and whenever data moves: a non-zero return aborts the transfer.
int on_progress(void* ud, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::stop_token*>(ud)->stop_requested() ? 1 : 0;
}

bool retryable(CURLcode rc) {
  switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_WRITE_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
      return false;
    default:
      return true;
  }
}

}  // namespace

void HttpClient::CurlDeleter::operator()(void* h) const { curl_easy_cleanup(static_cast<CURL*>(h)); }

HttpClient::HttpClient(HttpTimeouts timeouts, std::atomic<std::uint64_t>* progress, std::stop_token stop)
    : curl_(curl_easy_init()), timeouts_(timeouts), progress_(progress), stop_(std::move(stop)) {
  if (!curl_) throw std::runtime_error("curl_easy_init failed");
}

HttpClient::~HttpClient() = default;

HttpResponse HttpClient::perform(const HttpRequest& req) {
  CURL* c = static_cast<CURL*>(curl_.get());
  curl_easy_reset(c);  // keeps the connection cache: later requests to the same host reuse it
  HttpResponse resp;
  Exchange x{c, &req, &resp, 0, progress_, {}, false};

  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&](const std::string& line) {
    curl_slist* l = curl_slist_append(headers.get(), line.c_str());
    if (!l) throw std::runtime_error("out of memory building request headers");
    (void)headers.release();
    headers.reset(l);
  };
  for (const auto& [k, v] : req.headers) add_header(fmt::format("{}: {}", k, v));
  add_header("Expect:");  // no 100-continue round trip before every body
  add_header("Accept:");

  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeouts_.connect_s);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, timeouts_.stall_s);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
  if (stop_.stop_possible()) {
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &stop_);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  }
  if (req.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (req.method == "PUT" || req.method == "POST") {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &x);
    curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(c, CURLOPT_SEEKDATA, &x);
    if (req.method == "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (req.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }

  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    if (rc == CURLE_ABORTED_BY_CALLBACK) throw TransportError("cancelled", false);
    if (!x.sink_error.empty()) throw TransportError("cannot write the download: " + x.sink_error, false);
    throw TransportError(curl_easy_strerror(rc), retryable(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  return resp;
}

}  // namespace pb::s3
