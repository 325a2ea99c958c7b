#include "clickhouse/http_client.hpp"

#include <curl/curl.h>

#include <charconv>
#include <new>

#include <fmt/format.h>

namespace pb::ch {

namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

std::size_t collect(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// Percent-encodes everything but RFC 3986 unreserved characters.
void append_url_encoded(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
}

// ClickHouse error codes after which the same insert may succeed (ErrorCodes.cpp).
bool retryable_server_code(int code) {
  switch (code) {
    case 159:  // TIMEOUT_EXCEEDED
    case 164:  // READONLY (e.g. a replica lost its Keeper session)
    case 202:  // TOO_MANY_SIMULTANEOUS_QUERIES
    case 203:  // NO_FREE_CONNECTION
    case 209:  // SOCKET_TIMEOUT
    case 210:  // NETWORK_ERROR
    case 241:  // MEMORY_LIMIT_EXCEEDED
    case 242:  // TABLE_IS_READ_ONLY
    case 252:  // TOO_MANY_PARTS
    case 279:  // ALL_CONNECTION_TRIES_FAILED (Distributed)
    case 319:  // UNKNOWN_STATUS_OF_INSERT
    case 425:  // SYSTEM_ERROR
      return true;
    default:
      return false;
  }
}

}  // namespace

int server_error_code(std::string_view body) {
  const auto pos = body.find("Code: ");
  if (pos == std::string_view::npos) return -1;
  int code = -1;
  const char* begin = body.data() + pos + 6;
  std::from_chars(begin, body.data() + body.size(), code);
  return code;
}

Outcome classify(const HttpResponse& r) {
  switch (r.curl_code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_SSL_CONNECT_ERROR:  // TLS handshake refused: e.g. HTTPS to an HTTP port
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_LOGIN_DENIED:
      return Outcome::fatal;  // configuration problems: retrying cannot help
    default:
      break;
  }
  if (r.curl_code != 0 || r.status == 0) return Outcome::transient;  // no answer: connection refused/reset, timeout
  if (r.status == 200) return Outcome::ok;
  if (r.status == 502 || r.status == 503 || r.status == 504 || r.status == 429) return Outcome::transient;
  return retryable_server_code(server_error_code(r.body)) ? Outcome::transient : Outcome::fatal;
}

std::string describe_failure(const HttpResponse& r) {
  if (r.curl_code != 0) return fmt::format("connection failed: {}", r.curl_error);
  std::string_view body = r.body;
  while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.remove_suffix(1);
  if (body.size() > 2000) body = body.substr(0, 2000);
  return fmt::format("HTTP {}: {}", r.status, body);
}

CurlGlobal::CurlGlobal() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
}
CurlGlobal::~CurlGlobal() { curl_global_cleanup(); }

struct HttpClient::Impl {
  CurlPtr curl;
  std::string error_buffer = std::string(CURL_ERROR_SIZE, '\0');
};

HttpClient::HttpClient(Endpoint endpoint) : endpoint_(std::move(endpoint)), impl_(std::make_unique<Impl>()) {
  impl_->curl.reset(curl_easy_init());
  if (!impl_->curl) throw std::bad_alloc();
}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

std::string HttpClient::url_for(std::string_view query) const {
  std::string url = fmt::format("{}://{}:{}/?database=", endpoint_.secure ? "https" : "http", endpoint_.host,
                                endpoint_.port);
  append_url_encoded(url, endpoint_.database);
  for (const auto& [name, value] : endpoint_.settings) {
    url += '&';
    append_url_encoded(url, name);
    url += '=';
    append_url_encoded(url, value);
  }
  url += "&query=";
  append_url_encoded(url, query);
  return url;
}

HttpResponse HttpClient::post(std::string_view query, std::string_view body, bool gzip_body) {
  CURL* c = impl_->curl.get();
  curl_easy_reset(c);  // keeps the connection cache: the next request reuses the kept-alive socket
  HttpResponse r;
  const std::string url = url_for(query);
  SlistPtr headers;
  auto add_header = [&](const char* h) {
    curl_slist* l = curl_slist_append(headers.get(), h);
    if (!l) throw std::bad_alloc();
    (void)headers.release();
    headers.reset(l);
  };
  add_header("Content-Type: application/octet-stream");
  add_header("Expect:");  // no 100-continue round trip per batch
  if (gzip_body) add_header("Content-Encoding: gzip");
  impl_->error_buffer[0] = '\0';
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.empty() ? "" : body.data());  // never NULL: that reads stdin
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  // Basic auth: understood by every ClickHouse version (the X-ClickHouse-* headers are newer).
  curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
  curl_easy_setopt(c, CURLOPT_USERNAME, endpoint_.user.c_str());
  curl_easy_setopt(c, CURLOPT_PASSWORD, endpoint_.password.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, impl_->error_buffer.data());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(endpoint_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  if (endpoint_.secure && !endpoint_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, endpoint_.ca_file.c_str());
  if (endpoint_.secure && endpoint_.insecure_tls) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  const CURLcode rc = curl_easy_perform(c);
  r.curl_code = static_cast<int>(rc);
  if (rc != CURLE_OK) {
    r.curl_error = impl_->error_buffer[0] ? impl_->error_buffer.c_str() : curl_easy_strerror(rc);
  } else {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  }
  return r;
}

std::string HttpClient::execute(std::string_view sql) {
  HttpResponse r = post(sql, {}, false);
  if (r.curl_code != 0 || r.status != 200) {
    throw ClickHouseError(fmt::format("ClickHouse at {}:{}: {}", endpoint_.host, endpoint_.port, describe_failure(r)));
  }
  return std::move(r.body);
}

}  // namespace pb::ch
