// Listener and HTTP/1.1 connections. WebSocket sessions are in ws_server_session.cpp.
#include "net/http_server.hpp"

#include <array>
#include <exception>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "net/detail/server_core.hpp"

namespace pb::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using detail::ConnectionSlot;

// ---- Core --------------------------------------------------------------------------------------

std::optional<ConnectionSlot> HttpServer::Core::acquire() {
  std::lock_guard lock(mutex);
  if (stopped || live.size() >= options.max_connections) return std::nullopt;
  const std::uint64_t id = next_id++;
  live.emplace(id, std::weak_ptr<detail::Connection>());
  return ConnectionSlot(shared_from_this(), id);
}

bool HttpServer::Core::attach(std::uint64_t id, std::weak_ptr<detail::Connection> conn) {
  std::lock_guard lock(mutex);
  if (stopped) return false;
  live[id] = std::move(conn);
  return true;
}

void HttpServer::Core::release(std::uint64_t id) {
  std::lock_guard lock(mutex);
  live.erase(id);
}

bool HttpServer::Core::stopping() const {
  std::lock_guard lock(mutex);
  return stopped;
}

namespace {

// Half-closes, then reads and discards what the peer still sends (bounded in bytes and time) before
// closing, so that a response written just before is not destroyed by a TCP reset.
class LingeringClose : public std::enable_shared_from_this<LingeringClose> {
 public:
  explicit LingeringClose(beast::tcp_stream stream) : stream_(std::move(stream)) {}
  void run() {
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
    drain();
  }

 private:
  void drain() {
    stream_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](error_code ec, std::size_t n) {
      self->total_ += n;
      if (ec || self->total_ > (4u << 20)) {
        error_code ignored;
        self->stream_.socket().close(ignored);
        return;
      }
      self->drain();
    });
  }
  beast::tcp_stream stream_;
  std::array<char, 16 * 1024> buf_{};
  std::size_t total_ = 0;
};

void linger_close(beast::tcp_stream stream) { std::make_shared<LingeringClose>(std::move(stream))->run(); }

// Answers a connection over the cap with 503 and closes it, without parsing anything.
void reject_over_cap(tcp::socket socket) {
  struct Reject {
    explicit Reject(tcp::socket s) : stream(std::move(s)) {}
    beast::tcp_stream stream;
  };
  static constexpr std::string_view kBody = "connection limit reached\n";
  static const std::string kResponse =
      "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nRetry-After: 5\r\n"
      "Content-Length: " + std::to_string(kBody.size()) + "\r\n\r\n" + std::string(kBody);
  auto r = std::make_shared<Reject>(std::move(socket));
  r->stream.expires_after(std::chrono::seconds(5));
  asio::async_write(r->stream, asio::buffer(kResponse), [r](error_code ec, std::size_t) {
    if (ec) return;
    linger_close(std::move(r->stream));
  });
}

Request to_request(const detail::BeastRequest& req, const tcp::endpoint& remote) {
  Request out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  for (const auto& f : req) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = req.body();
  out.remote_address = remote.address().to_string();
  out.remote_port = remote.port();
  out.keep_alive = req.keep_alive();
  split_target(out);
  return out;
}

class HttpSession : public detail::Connection, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, ConnectionSlot slot)
      : ex_(socket.get_executor()), stream_(std::move(socket)), slot_(std::move(slot)) {
    error_code ec;
    remote_ = stream_.socket().remote_endpoint(ec);
  }

  void run() {
    if (!slot_->core().attach(slot_->id(), weak_from_this())) return;  // stopping
    asio::dispatch(ex_, [self = shared_from_this()] { self->do_read(); });
  }

  void shutdown() override {
    asio::post(ex_, [self = shared_from_this()] {
      self->stopping_ = true;
      // An idle connection closes now, a pending response is sent first; a streamed body is cut (the
      // client sees it end before its last chunk), since a client that reads slowly could hold it for long.
      if (!self->busy_ || self->source_) self->close_now();
    });
  }

  // Called through the Responder from any thread.
  void complete(Response response) {
    asio::post(ex_, [self = shared_from_this(), r = std::move(response)]() mutable {
      self->write_response(std::move(r), self->request_keep_alive_);
    });
  }

 private:
  const HttpServerOptions& opts() const { return slot_->core().options; }

  void do_read() {
    if (stopping_ || !slot_) return close_now();
    parser_.emplace();
    parser_->body_limit(opts().body_limit);
    parser_->header_limit(opts().header_limit);
    stream_.expires_after(opts().read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (!slot_) return;
    if (ec == http::error::end_of_stream) return close_now();
    if (ec == http::error::body_limit) return write_response(Response::text(413, "request body too large\n"), false);
    if (ec == http::error::header_limit) return write_response(Response::text(431, "request header too large\n"), false);
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category() && !stopping_)
      return write_response(Response::text(400, "bad request\n"), false);
    if (ec) return close_now();
    stream_.expires_never();
    detail::BeastRequest breq = parser_->release();
    Request req = to_request(breq, remote_);
    auto& core = slot_->core();
    core.requests.fetch_add(1);
    if (beast::websocket::is_upgrade(breq) && core.handlers.accept_websocket && core.handlers.accept_websocket(req)) {
      detail::start_ws_session(std::move(*slot_), std::move(stream_), std::move(breq), std::move(req));
      slot_.reset();
      return;
    }
    request_keep_alive_ = breq.keep_alive();
    request_http10_ = breq.version() < 11;
    busy_ = true;
    if (!core.handlers.on_request) return write_response(Response::text(404, "not found\n"), request_keep_alive_);
    struct Sink : detail::ResponseSink {
      explicit Sink(std::shared_ptr<HttpSession> s) : session(std::move(s)) {}
      void complete(Response r) override { session->complete(std::move(r)); }
      std::shared_ptr<HttpSession> session;
    };
    Responder responder(std::make_shared<Sink>(shared_from_this()));
    try {
      core.handlers.on_request(req, responder);
    } catch (const std::exception&) {
      responder.respond(Response::text(500, "internal error\n"));
    }
  }

  void write_response(Response r, bool keep_alive) {
    if (!slot_ || writing_) return;
    if (r.source) return start_stream(std::move(r), keep_alive);
    writing_ = true;
    busy_ = true;
    keep_alive = keep_alive && !stopping_;
    res_.emplace(static_cast<http::status>(r.status), 11);
    res_->set(http::field::server, opts().server_name);
    res_->set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res_->insert(k, v);
    res_->body() = std::move(r.body);
    res_->keep_alive(keep_alive);
    res_->prepare_payload();
    stream_.expires_after(opts().write_timeout);
    http::async_write(stream_, *res_, [self = shared_from_this(), keep_alive](error_code ec, std::size_t) {
      self->writing_ = false;
      self->busy_ = false;
      self->res_.reset();
      if (ec) return self->close_now();
      if (!keep_alive) {
        self->stream_.expires_never();
        self->slot_.reset();
        return linger_close(std::move(self->stream_));
      }
      self->do_read();
    });
  }

  // ---- A chunked body from a BodySource: the head at once, then the pieces, each made while the one
  // before it is on the wire (one piece ahead), so a slow reader holds the producer back.
  void start_stream(Response r, bool keep_alive) {
    writing_ = true;
    busy_ = true;
    source_ = std::move(r.source);
    source_done_ = false;
    source_failed_ = false;
    body_keep_alive_ = keep_alive && !stopping_;
    if (request_http10_) return write_gathered(std::move(r));
    head_.emplace(static_cast<http::status>(r.status), 11);
    head_->set(http::field::server, opts().server_name);
    head_->set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) head_->insert(k, v);
    head_->keep_alive(body_keep_alive_);
    head_->chunked(true);
    head_writer_.emplace(*head_);
    stream_.expires_after(opts().write_timeout);
    http::async_write_header(stream_, *head_writer_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec || !self->pull(self->chunk_)) return self->end_stream(false);
      self->write_chunk();
    });
  }

  // HTTP/1.0 has no chunked encoding: the body is gathered and sent whole, with its length.
  void write_gathered(Response r) {
    std::string whole, piece;
    while (!source_done_) {
      if (!pull(piece)) return end_stream(false);
      whole += piece;
      piece.clear();
    }
    end_stream(false, /*close=*/false);
    r.source = nullptr;
    r.body = std::move(whole);
    write_response(std::move(r), body_keep_alive_);
  }

  // Asks the source for the next piece (appended to `out`); false when it failed.
  bool pull(std::string& out) {
    if (source_done_) return !source_failed_;
    try {
      source_done_ = !source_(out);
    } catch (const std::exception&) {
      source_done_ = source_failed_ = true;
    }
    return !source_failed_;
  }

  // Writes chunk_ (or the last chunk once the source is done), making the next piece meanwhile.
  void write_chunk() {
    // Closed meanwhile, or the server stops (also when it began to stop before this body started).
    if (!slot_ || stopping_) return end_stream(false);
    while (chunk_.empty() && !source_done_)
      if (!pull(chunk_)) return end_stream(false);
    stream_.expires_after(opts().write_timeout);
    if (chunk_.empty()) {
      asio::async_write(stream_, http::make_chunk_last(), [self = shared_from_this()](error_code ec, std::size_t) {
        self->end_stream(!ec);
      });
      return;
    }
    asio::async_write(stream_, http::make_chunk(asio::buffer(chunk_)), [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec || self->source_failed_) return self->end_stream(false);
      self->chunk_ = std::exchange(self->ahead_, {});
      self->write_chunk();
    });
    pull(ahead_);  // a failure ends the body after this chunk, never with the last chunk
  }

  // close=false: only the stream's state is dropped (an HTTP/1.0 answer is then written whole).
  void end_stream(bool complete, bool close = true) {
    source_ = nullptr;
    chunk_.clear();
    ahead_.clear();
    head_writer_.reset();
    head_.reset();
    writing_ = false;
    busy_ = false;
    if (!close) return;
    if (!complete) return close_now();
    if (!body_keep_alive_ || stopping_) {
      stream_.expires_never();
      slot_.reset();
      return linger_close(std::move(stream_));
    }
    do_read();
  }

  void close_now() {
    source_ = nullptr;  // frees what a streamed body's producer holds
    if (!slot_) return;  // already closed, lingering, or handed over to a WebSocket session
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    slot_.reset();
  }

  asio::any_io_executor ex_;  // the connection's strand (stream_ may be moved away)
  beast::tcp_stream stream_;
  std::optional<ConnectionSlot> slot_;
  tcp::endpoint remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  // A streamed body (start_stream): its head, its source, the chunk being written and the one made ahead.
  BodySource source_;
  std::optional<http::response<http::empty_body>> head_;
  std::optional<http::response_serializer<http::empty_body>> head_writer_;
  std::string chunk_;
  std::string ahead_;
  bool source_done_ = false;    // the source said its last piece
  bool source_failed_ = false;  // it threw: the body ends without its last chunk
  bool body_keep_alive_ = false;
  bool request_http10_ = false;
  bool request_keep_alive_ = true;
  bool busy_ = false;     // a request is being handled or answered
  bool writing_ = false;
  bool stopping_ = false;
};

void do_accept(const std::shared_ptr<HttpServer::Core>& core) {
  core->acceptor.async_accept(asio::make_strand(core->io), [core](error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !core->acceptor.is_open()) return;
    if (!ec) {
      core->accepted.fetch_add(1);
      // Answers are small writes that wait on nothing: without TCP_NODELAY, Nagle holds a message until the
      // client's delayed ACK (40 ms on Linux), which set every one-event REQ's latency to ~44 ms.
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      if (auto slot = core->acquire()) {
        std::make_shared<HttpSession>(std::move(socket), std::move(*slot))->run();
      } else if (!core->stopping()) {
        core->rejected.fetch_add(1);
        reject_over_cap(std::move(socket));
      }
    }
    do_accept(core);  // transient errors (EMFILE, ECONNABORTED) do not stop the listener
  });
}

}  // namespace

// ---- HttpServer --------------------------------------------------------------------------------

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, HttpServerHandlers handlers)
    : core_(std::make_shared<Core>(io, std::move(options), std::move(handlers))) {}

HttpServer::~HttpServer() { stop(); }

std::uint16_t HttpServer::listen(const std::string& host, std::uint16_t port) {
  const tcp::endpoint ep(asio::ip::make_address(host), port);
  auto& acc = core_->acceptor;
  acc.open(ep.protocol());
  acc.set_option(asio::socket_base::reuse_address(true));
  acc.bind(ep);
  acc.listen(asio::socket_base::max_listen_connections);
  core_->port.store(acc.local_endpoint().port());
  asio::dispatch(acc.get_executor(), [core = core_] { do_accept(core); });
  return core_->port.load();
}

std::uint16_t HttpServer::port() const { return core_->port.load(); }

void HttpServer::stop() {
  std::vector<std::shared_ptr<detail::Connection>> conns;
  {
    std::lock_guard lock(core_->mutex);
    if (core_->stopped) return;
    core_->stopped = true;
    for (auto& [id, weak] : core_->live)
      if (auto c = weak.lock()) conns.push_back(std::move(c));
  }
  asio::dispatch(core_->acceptor.get_executor(), [core = core_] {
    error_code ec;
    core->acceptor.close(ec);
  });
  for (auto& c : conns) c->shutdown();
}

HttpServerStats HttpServer::stats() const {
  HttpServerStats s;
  s.accepted = core_->accepted.load();
  s.rejected_over_cap = core_->rejected.load();
  s.requests = core_->requests.load();
  s.websockets = core_->websockets.load();
  std::lock_guard lock(core_->mutex);
  s.active = core_->live.size();
  return s;
}

}  // namespace pb::net
