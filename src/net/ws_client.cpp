// The WebSocket client. The only translation unit of the client that includes Beast.
#include "net/ws_client.hpp"

#include <atomic>
#include <deque>
#include <mutex>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "net/close_reason.hpp"

namespace pb::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using error_code = boost::system::error_code;
using Strand = asio::strand<asio::io_context::executor_type>;

// State shared by the plain and the TLS variant; the stream-specific work is in ClientSession<Stream>.
class WsClient::Impl : public std::enable_shared_from_this<WsClient::Impl> {
 public:
  Impl(asio::io_context& io, RelayUrl url, std::vector<asio::ip::address> endpoints, WsClientOptions options,
       WsClientHandlers handlers)
      : strand_(asio::make_strand(io)),
        url_(std::move(url)),
        addresses_(std::move(endpoints)),
        options_(std::move(options)),
        handlers_(std::move(handlers)) {}
  virtual ~Impl() = default;

  virtual void start() = 0;
  virtual void do_close() = 0;  // on the strand
  virtual void do_abort() = 0;  // on the strand, no callbacks
  virtual void do_resume() = 0;
  virtual void do_flush() = 0;

  bool send(std::string text) {
    const WsState s = state_.load();
    if (s != WsState::connecting && s != WsState::open) return false;
    const std::size_t n = text.size();
    const std::size_t before = pending_.fetch_add(n);
    if (before + n > options_.max_pending_send_bytes) {
      pending_.fetch_sub(n);
      return false;
    }
    asio::post(strand_, [self = shared_from_this(), t = std::move(text)]() mutable {
      if (self->state_.load() == WsState::closed) return;
      self->queue_.push_back(std::move(t));
      self->do_flush();
    });
    return true;
  }

  void resume() { asio::post(strand_, [self = shared_from_this()] { self->do_resume(); }); }
  void close() { asio::post(strand_, [self = shared_from_this()] { self->do_close(); }); }

  void detach() {
    if (strand_.running_in_this_thread()) {
      detached_ = true;  // no handler of ours can run concurrently: we are on its strand
    } else {
      std::lock_guard lock(cb_mutex_);
      detached_ = true;
    }
    asio::post(strand_, [self = shared_from_this()] { self->do_abort(); });
  }

  WsClientStats stats() const {
    WsClientStats s;
    s.messages_in = messages_in_.load();
    s.binary_in = binary_in_.load();
    s.bytes_in = bytes_in_.load();
    s.messages_out = messages_out_.load();
    s.bytes_out = bytes_out_.load();
    s.pings_sent = pings_sent_.load();
    s.pongs_received = pongs_received_.load();
    s.deflate_negotiated = deflate_.load();
    s.peer_close_code = peer_close_code_.load();
    return s;
  }

  Strand strand_;
  const RelayUrl url_;
  const std::vector<asio::ip::address> addresses_;
  const WsClientOptions options_;
  std::atomic<WsState> state_{WsState::connecting};
  std::atomic<std::size_t> pending_{0};
  std::atomic<std::uint64_t> messages_in_{0}, binary_in_{0}, bytes_in_{0}, messages_out_{0}, bytes_out_{0};
  std::atomic<std::uint64_t> pings_sent_{0}, pongs_received_{0};
  std::atomic<bool> deflate_{false};
  std::atomic<int> peer_close_code_{0};

 protected:
  // Runs a handler unless detached. The mutex lets the destructor on another thread wait for it.
  template <class F>
  auto invoke(F&& f) -> decltype(f(std::declval<WsClientHandlers&>())) {
    std::lock_guard lock(cb_mutex_);
    using R = decltype(f(handlers_));
    if constexpr (std::is_void_v<R>) {
      if (!detached_) f(handlers_);
    } else {
      if (detached_) return R{};
      return f(handlers_);
    }
  }
  void clear_handlers() {
    std::lock_guard lock(cb_mutex_);
    handlers_ = {};
  }

  std::deque<std::string> queue_;  // strand only

 private:
  std::mutex cb_mutex_;
  bool detached_ = false;  // guarded by cb_mutex_ (or written on the strand, where no handler runs concurrently)
  WsClientHandlers handlers_;
};

namespace {

template <class Stream>
class ClientSession final : public WsClient::Impl {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... TlsArg>
  ClientSession(asio::io_context& io, RelayUrl url, std::vector<asio::ip::address> endpoints, WsClientOptions options,
                WsClientHandlers handlers, std::shared_ptr<asio::ssl::context> tls, TlsArg&... tls_arg)
      : Impl(io, std::move(url), std::move(endpoints), std::move(options), std::move(handlers)),
        tls_(std::move(tls)),
        ws_(strand_, tls_arg...),
        deadline_(strand_),
        ping_timer_(strand_) {}

  void start() override {
    asio::post(strand_, [self = self()] { self->do_start(); });
  }

 private:
  std::shared_ptr<ClientSession> self() { return std::static_pointer_cast<ClientSession>(shared_from_this()); }
  bool closed() const { return state_.load() == WsState::closed; }

  void do_start() {
    if (state_.load() != WsState::connecting) return;
    deadline_.expires_after(options_.connect_timeout);
    deadline_.async_wait([self = self()](error_code ec) {
      if (!ec && self->state_.load() == WsState::connecting)
        self->finish(reason::connect_timeout, asio::error::timed_out);
    });
    std::vector<asio::ip::tcp::endpoint> eps;
    eps.reserve(addresses_.size());
    for (const auto& a : addresses_) eps.emplace_back(a, url_.port);
    beast::get_lowest_layer(ws_).async_connect(
        eps, [self = self()](error_code ec, const asio::ip::tcp::endpoint&) { self->on_connect(ec); });
  }

  void on_connect(error_code ec) {
    if (closed()) return;
    if (ec) return finish(reason::connect_failed, ec);
    beast::get_lowest_layer(ws_).socket().set_option(asio::ip::tcp::no_delay(true), ec);
    if constexpr (kTls) {
      auto& tls = ws_.next_layer();
      if (!url_.host_is_ip && !SSL_set_tlsext_host_name(tls.native_handle(), url_.host.c_str()))
        return finish(reason::tls_failed, error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()));
      tls.set_verify_callback(asio::ssl::host_name_verification(url_.host));
      tls.async_handshake(asio::ssl::stream_base::client, [self = self()](error_code e) {
        if (self->closed()) return;
        if (e) return self->finish(reason::tls_failed, e);
        self->ws_handshake();
      });
    } else {
      ws_handshake();
    }
  }

  void ws_handshake() {
    websocket::permessage_deflate pmd;
    pmd.client_enable = options_.permessage_deflate;
    ws_.set_option(pmd);
    ws_.read_message_max(0);  // no limit in Beast: on_read skips what exceeds options_.read_message_max
    ws_.set_option(websocket::stream_base::decorator(
        [ua = options_.user_agent](websocket::request_type& req) { req.set(beast::http::field::user_agent, ua); }));
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) pongs_received_.fetch_add(1);
      if (kind != websocket::frame_type::close) on_rx();
    });
    ws_.async_handshake(res_, url_.host_header(), url_.target, [self = self()](error_code ec) {
      if (self->closed()) return;
      if (ec) return self->finish(reason::handshake_failed, ec);
      self->on_open();
    });
  }

  void on_open() {
    deadline_.cancel();
    const auto ext = res_[beast::http::field::sec_websocket_extensions];
    deflate_.store(ext.find("permessage-deflate") != beast::string_view::npos);
    res_ = {};
    state_.store(WsState::open);
    invoke([](WsClientHandlers& h) {
      if (h.on_open) h.on_open();
    });
    if (state_.load() != WsState::open) return;
    if (options_.ping_interval.count() > 0) arm_ping(options_.ping_interval);
    do_read();
    do_flush();
  }

  // ---- reading --------------------------------------------------------------------------------
  // Messages are read a chunk at a time, so that one bigger than read_message_max is skipped rather than
  // held or fatal: its bytes are dropped as they arrive, on_oversize reports it and the connection stays
  // open (a relay holding one event over the cap must not make everything it sends after it unreachable).
  // Only a message beyond kSkipFactor times the cap closes the connection ("message too big").
  static constexpr std::size_t kReadChunk = 64 * 1024;
  static constexpr std::size_t kSkipFactor = 16;

  void do_read() {
    if (reading_ || paused_ || state_.load() != WsState::open) return;
    reading_ = true;
    ws_.async_read_some(buffer_, kReadChunk, [self = self()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  // Drops the message read so far once it is over the cap; true while the message is being skipped.
  bool skip_oversize() {
    if (!skipping_ && buffer_.size() <= options_.read_message_max) return false;
    skipping_ = true;
    skipped_ += buffer_.size();
    buffer_.consume(buffer_.size());
    return true;
  }

  void on_read(error_code ec) {
    reading_ = false;
    if (closed()) return;
    if (ec) {
      if (ec == websocket::error::closed) {
        peer_close_code_.store(ws_.reason().code);
        return finish(local_close_ ? reason::closed_locally : reason::closed_by_peer, ec);
      }
      if (ec == websocket::error::message_too_big) return finish(reason::message_too_big, ec);
      if (state_.load() == WsState::closing) return;  // the close handshake reports the outcome
      return finish(reason::read_error, ec);
    }
    on_rx();
    if (skip_oversize()) {
      if (skipped_ / kSkipFactor > options_.read_message_max)
        return finish(reason::message_too_big, websocket::error::message_too_big);
      if (!ws_.is_message_done()) return do_read();
      const std::size_t bytes = std::exchange(skipped_, 0);
      skipping_ = false;
      invoke([&](WsClientHandlers& h) {
        if (h.on_oversize) h.on_oversize(bytes);
      });
      return do_read();
    }
    if (!ws_.is_message_done()) return do_read();
    const bool text = ws_.got_text();
    std::string msg = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    bytes_in_.fetch_add(msg.size());
    bool keep_reading = true;
    if (text) {
      messages_in_.fetch_add(1);
      keep_reading = invoke([&](WsClientHandlers& h) { return h.on_message ? h.on_message(std::move(msg)) : true; });
    } else {
      binary_in_.fetch_add(1);
      keep_reading = invoke([&](WsClientHandlers& h) { return h.on_binary ? h.on_binary(std::move(msg)) : true; });
    }
    if (!keep_reading) paused_ = true;
    do_read();
  }

  void do_resume() override {
    if (!paused_) return;
    paused_ = false;
    do_read();
  }

  // ---- writing --------------------------------------------------------------------------------
  void do_flush() override {
    if (writing_ || queue_.empty() || state_.load() != WsState::open) return;
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()), [self = self()](error_code ec, std::size_t) {
      self->writing_ = false;
      if (self->closed()) return;
      const std::size_t n = self->queue_.front().size();
      self->queue_.pop_front();
      self->pending_.fetch_sub(n);
      if (ec) {
        if (self->state_.load() == WsState::closing) return;
        return self->finish(reason::write_error, ec);
      }
      self->messages_out_.fetch_add(1);
      self->bytes_out_.fetch_add(n);
      self->do_flush();
    });
  }

  // ---- keepalive ------------------------------------------------------------------------------
  void on_rx() {
    rx_seen_ = true;
    if (awaiting_pong_) {
      awaiting_pong_ = false;
      arm_ping(options_.ping_interval);
    }
  }

  void arm_ping(std::chrono::milliseconds delay) {
    const std::uint64_t gen = ++ping_gen_;
    ping_timer_.expires_after(delay);
    ping_timer_.async_wait([self = self(), gen](error_code ec) {
      if (ec || gen != self->ping_gen_ || self->state_.load() != WsState::open) return;
      self->on_ping_timer();
    });
  }

  void on_ping_timer() {
    if (!awaiting_pong_) {
      if (paused_) return arm_ping(options_.ping_interval);  // keepalive is suspended while paused
      awaiting_pong_ = true;
      rx_seen_ = false;
      if (!ping_in_flight_) {
        ping_in_flight_ = true;
        pings_sent_.fetch_add(1);
        ws_.async_ping({}, [self = self()](error_code) { self->ping_in_flight_ = false; });
      }
      return arm_ping(options_.pong_timeout);
    }
    awaiting_pong_ = false;
    if (rx_seen_ || paused_) return arm_ping(options_.ping_interval);
    finish(reason::ping_timeout, asio::error::timed_out);
  }

  // ---- closing --------------------------------------------------------------------------------
  void do_close() override {
    const WsState s = state_.load();
    if (s == WsState::connecting) return finish(reason::closed_locally, asio::error::operation_aborted);
    if (s != WsState::open) return;
    state_.store(WsState::closing);
    local_close_ = true;
    ++ping_gen_;
    ping_timer_.cancel();
    deadline_.expires_after(options_.close_timeout);
    deadline_.async_wait([self = self()](error_code ec) {
      if (!ec && self->state_.load() == WsState::closing)
        self->finish(reason::closed_locally, asio::error::timed_out);
    });
    ws_.async_close(websocket::close_code::normal, [self = self()](error_code ec) {
      if (self->closed()) return;
      self->finish(reason::closed_locally, ec);
    });
  }

  void do_abort() override {
    if (closed()) return;
    state_.store(WsState::closed);
    teardown();
  }

  void teardown() {
    ++ping_gen_;
    deadline_.cancel();
    ping_timer_.cancel();
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    queue_.clear();
    pending_.store(0);
  }

  void finish(std::string_view why, error_code ec) {
    if (closed()) return;
    state_.store(WsState::closed);
    teardown();
    const std::string r(why);
    invoke([&](WsClientHandlers& h) {
      if (h.on_close) h.on_close(r, ec);
    });
    clear_handlers();  // break reference cycles through captured state
  }

  std::shared_ptr<asio::ssl::context> tls_;  // keeps the context alive as long as the stream
  websocket::stream<Stream> ws_;
  asio::steady_timer deadline_;   // connect deadline, then close deadline
  asio::steady_timer ping_timer_;
  websocket::response_type res_;
  beast::flat_buffer buffer_;
  bool skipping_ = false;     // the message being read is over read_message_max
  std::size_t skipped_ = 0;   // its bytes so far
  bool reading_ = false;
  bool paused_ = false;
  bool writing_ = false;
  bool local_close_ = false;
  bool awaiting_pong_ = false;
  bool rx_seen_ = false;
  bool ping_in_flight_ = false;
  std::uint64_t ping_gen_ = 0;
};

}  // namespace

WsClient::WsClient(asio::io_context& io, RelayUrl url, std::vector<asio::ip::address> endpoints,
                   std::shared_ptr<asio::ssl::context> tls, WsClientOptions options, WsClientHandlers handlers) {
  if (url.tls()) {
    if (!tls) throw std::invalid_argument("wss:// needs a TLS context");
    auto& ctx = *tls;
    impl_ = std::make_shared<ClientSession<beast::ssl_stream<beast::tcp_stream>>>(
        io, std::move(url), std::move(endpoints), std::move(options), std::move(handlers), std::move(tls), ctx);
  } else {
    impl_ = std::make_shared<ClientSession<beast::tcp_stream>>(io, std::move(url), std::move(endpoints),
                                                               std::move(options), std::move(handlers), nullptr);
  }
}

WsClient::~WsClient() { impl_->detach(); }

void WsClient::start() { impl_->start(); }
bool WsClient::send(std::string text) { return impl_->send(std::move(text)); }
void WsClient::resume_reading() { impl_->resume(); }
void WsClient::close() { impl_->close(); }
WsState WsClient::state() const { return impl_->state_.load(); }
WsClientStats WsClient::stats() const { return impl_->stats(); }
std::size_t WsClient::pending_send_bytes() const { return impl_->pending_.load(); }
const RelayUrl& WsClient::url() const { return impl_->url_; }

}  // namespace pb::net
