// The HTTP(S) GET client. Beast's tcp_stream carries the one deadline through every step.
#include "net/http_get.hpp"

#include <stdexcept>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace pb::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using error_code = boost::system::error_code;

const char* to_string(HttpGetError e) {
  switch (e) {
    case HttpGetError::none: return "none";
    case HttpGetError::timeout: return "timeout";
    case HttpGetError::connect_failed: return "connect failed";
    case HttpGetError::tls_failed: return "tls handshake failed";
    case HttpGetError::too_large: return "too large";
    case HttpGetError::protocol: return "protocol error";
  }
  return "protocol error";
}

namespace {

template <class Stream>
class GetSession final : public HttpGet, public std::enable_shared_from_this<GetSession<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... TlsArg>
  GetSession(asio::io_context& io, const RelayUrl& url, std::vector<asio::ip::address> addresses,
             std::shared_ptr<asio::ssl::context> tls, HttpGetOptions options, Handler handler, TlsArg&... tls_arg)
      : strand_(asio::make_strand(io)), url_(url), addresses_(std::move(addresses)), tls_(std::move(tls)),
        options_(std::move(options)), handler_(std::move(handler)), stream_(strand_, tls_arg...) {}

  void run() {
    asio::post(strand_, [self = this->shared_from_this()] { self->do_connect(); });
  }

  void cancel() override {
    asio::post(strand_, [self = this->shared_from_this()] {
      self->handler_ = nullptr;
      beast::get_lowest_layer(self->stream_).close();
    });
  }

 private:
  void do_connect() {
    if (!handler_) return;
    std::vector<asio::ip::tcp::endpoint> eps;
    for (const auto& a : addresses_) eps.emplace_back(a, url_.port);
    beast::get_lowest_layer(stream_).expires_after(options_.timeout);  // one deadline for all that follows
    beast::get_lowest_layer(stream_).async_connect(
        eps, [self = this->shared_from_this()](error_code ec, const asio::ip::tcp::endpoint&) { self->on_connect(ec); });
  }

  void on_connect(error_code ec) {
    if (ec) return fail(HttpGetError::connect_failed, ec);
    if constexpr (kTls) {
      if (!url_.host_is_ip && !SSL_set_tlsext_host_name(stream_.native_handle(), url_.host.c_str()))
        return fail(HttpGetError::tls_failed, error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()));
      stream_.set_verify_callback(asio::ssl::host_name_verification(url_.host));
      stream_.async_handshake(asio::ssl::stream_base::client, [self = this->shared_from_this()](error_code e) {
        if (e) return self->fail(HttpGetError::tls_failed, e);
        self->send();
      });
    } else {
      send();
    }
  }

  void send() {
    req_ = {http::verb::get, url_.target, 11};
    req_.set(http::field::host, url_.host_header());
    req_.set(http::field::user_agent, options_.user_agent);
    req_.set(http::field::connection, "close");
    for (const auto& [name, value] : options_.headers) req_.set(name, value);
    http::async_write(stream_, req_, [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->fail(HttpGetError::protocol, ec);
      self->receive();
    });
  }

  // The header first: Beast 1.74's async_read parses eagerly and then skips the body limit's check of a
  // Content-Length (chunked and read-to-EOF bodies are still checked octet by octet), so it is done here.
  void receive() {
    parser_.body_limit(options_.max_body);
    http::async_read_header(stream_, buffer_, parser_, [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (!ec && self->parser_.content_length().value_or(0) > self->options_.max_body) ec = http::error::body_limit;
      if (ec) return self->fail_read(ec);
      http::async_read(self->stream_, self->buffer_, self->parser_, [self](error_code e, std::size_t) {
        if (e) return self->fail_read(e);
        auto res = self->parser_.release();
        self->done({HttpGetError::none, {}, static_cast<int>(res.result_int()), std::move(res.body())});
      });
    });
  }

  void fail_read(error_code ec) { fail(ec == http::error::body_limit ? HttpGetError::too_large : HttpGetError::protocol, ec); }

  void fail(HttpGetError e, error_code ec) {
    if (ec == beast::error::timeout) e = HttpGetError::timeout;
    done({e, ec.message(), 0, {}});
  }

  void done(HttpGetResult result) {
    error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);  // Connection: close; no TLS shutdown needed
    if (auto h = std::exchange(handler_, nullptr)) h(std::move(result));
  }

  asio::strand<asio::io_context::executor_type> strand_;
  const RelayUrl url_;
  const std::vector<asio::ip::address> addresses_;
  std::shared_ptr<asio::ssl::context> tls_;  // keeps the context alive as long as the stream
  const HttpGetOptions options_;
  Handler handler_;  // strand only; null once called or cancelled
  Stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> req_;
  http::response_parser<http::string_body> parser_;
};

}  // namespace

std::shared_ptr<HttpGet> HttpGet::start(asio::io_context& io, const RelayUrl& url, std::vector<asio::ip::address> addresses,
                                        std::shared_ptr<asio::ssl::context> tls, HttpGetOptions options, Handler handler) {
  if (url.tls()) {
    if (!tls) throw std::invalid_argument("https needs a TLS context");
    auto& ctx = *tls;
    auto s = std::make_shared<GetSession<beast::ssl_stream<beast::tcp_stream>>>(
        io, url, std::move(addresses), std::move(tls), std::move(options), std::move(handler), ctx);
    s->run();
    return s;
  }
  auto s = std::make_shared<GetSession<beast::tcp_stream>>(io, url, std::move(addresses), nullptr, std::move(options),
                                                            std::move(handler));
  s->run();
  return s;
}

}  // namespace pb::net
