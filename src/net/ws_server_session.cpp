// Server-side WebSocket sessions (after HttpServer accepted an upgrade).
#include <atomic>
#include <deque>
#include <mutex>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "net/close_reason.hpp"
#include "net/detail/coalescing_stream.hpp"
#include "net/detail/server_core.hpp"

namespace pb::net::detail {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using error_code = boost::system::error_code;

class WsSession final : public WsServerSession, public Connection, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(ConnectionSlot slot, beast::tcp_stream stream, Request request)
      : slot_(std::move(slot)), ws_(std::move(stream)), timer_(ws_.get_executor()), request_(std::move(request)) {}

  void run(BeastRequest breq) {
    if (!slot_->core().attach(slot_->id(), weak_from_this())) return;
    ws_.next_layer().set_owner(weak_from_this());
    const auto& o = slot_->core().options;
    websocket::permessage_deflate pmd;
    pmd.server_enable = o.ws_permessage_deflate;
    ws_.set_option(pmd);
    ws_.read_message_max(o.ws_read_message_max);
    websocket::stream_base::timeout t{};
    t.handshake_timeout = o.ws_close_timeout;
    t.idle_timeout = o.ws_idle_timeout;
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator(
        [name = o.server_name](websocket::response_type& res) { res.set(beast::http::field::server, name); }));
    const auto ext = breq[beast::http::field::sec_websocket_extensions];
    deflate_ = o.ws_permessage_deflate && ext.find("permessage-deflate") != beast::string_view::npos;
    breq_ = std::move(breq);
    asio::dispatch(ws_.get_executor(), [self = shared_from_this()] {
      self->ws_.async_accept(self->breq_, [self](error_code ec) { self->on_accept(ec); });
    });
  }

  // ---- WsServerSession ----
  void set_handlers(WsSessionHandlers handlers) override {
    std::lock_guard lock(mutex_);
    handlers_ = std::move(handlers);
  }

  bool send(std::string text) override {
    if (!reserve(text.size())) return false;
    asio::post(ws_.get_executor(), [self = shared_from_this(), t = std::move(text)]() mutable {
      if (self->closed_) return;
      self->queue_.push_back({std::move(t), false});
      self->flush();
    });
    return true;
  }

  bool send_all(std::vector<std::string> texts) override {
    std::size_t n = 0;
    for (const auto& t : texts) n += t.size();
    if (!deflate_) {
      // Framed here, on the sender's thread, into one buffer: the connection's thread then appends it
      // whole, and the messages are freed by the thread that allocated them (freed on the connection's
      // thread, each one locked the sender's malloc arena against it).
      std::string frames;
      frames.reserve(n + 10 * texts.size());
      for (const auto& t : texts) CoalescingStream::append_text_frame_to(frames, t);
      texts = {};
      if (!reserve(frames.size())) return false;
      asio::post(ws_.get_executor(), [self = shared_from_this(), f = std::move(frames)]() mutable {
        if (self->closed_) return;
        self->queue_.push_back({std::move(f), true});
        self->flush();
      });
      return true;
    }
    if (!reserve(n)) return false;
    asio::post(ws_.get_executor(), [self = shared_from_this(), ts = std::move(texts)]() mutable {
      if (self->closed_) return;
      for (auto& t : ts) self->queue_.push_back({std::move(t), false});
      self->flush();
    });
    return true;
  }

  void close(std::string why) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), why = std::move(why)]() mutable {
      self->graceful_close(websocket::close_reason(websocket::close_code::normal, why), reason::closed_locally);
    });
  }

  void resume_reading() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      if (!self->paused_) return;
      self->paused_ = false;
      self->do_read();
    });
  }

  std::uint64_t id() const override { return id_; }
  const std::string& remote_address() const override { return request_.remote_address; }
  const Request& request() const override { return request_; }
  bool deflate_negotiated() const override { return deflate_; }
  std::size_t pending_send_bytes() const override { return pending_.load(); }
  bool is_open() const override { return open_.load(); }

  // ---- Connection ----
  void shutdown() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      self->graceful_close(websocket::close_reason(websocket::close_code::going_away, "server stopping"),
                           reason::server_stopping);
    });
  }

 private:
  HttpServer::Core& slot_core() const { return *core_; }

  void on_accept(error_code ec) {
    breq_ = {};
    if (closed_) return;
    if (ec) return finish(reason::handshake_failed, ec);
    open_.store(true);
    slot_core().websockets.fetch_add(1);
    if (slot_core().handlers.on_websocket) slot_core().handlers.on_websocket(shared_from_this());
    if (closing_ || closed_) return;
    if (slot_core().stopping()) return graceful_close(websocket::close_reason(websocket::close_code::going_away, "server stopping"), reason::server_stopping);
    do_read();
  }

  void do_read() {
    if (reading_ || paused_ || closed_ || closing_) return;
    reading_ = true;
    ws_.async_read(buffer_, [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    reading_ = false;
    if (closed_) return;
    if (ec) {
      if (ec == websocket::error::closed) return finish(closing_ ? close_reason_ : reason::closed_by_peer, ec);
      if (ec == websocket::error::message_too_big) return finish(reason::message_too_big, ec);
      if (ec == beast::error::timeout) return finish(reason::idle_timeout, ec);
      if (closing_) return;  // the close handshake reports the outcome
      return finish(reason::read_error, ec);
    }
    const bool binary = !ws_.got_text();
    std::string msg = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    bool keep_reading = true;
    {
      std::lock_guard lock(mutex_);
      if (handlers_.on_message) keep_reading = handlers_.on_message(std::move(msg), binary);
    }
    if (!keep_reading) paused_ = true;
    do_read();
  }

  // Counts n more bytes of pending output; over the cap the session is closed and false returned.
  bool reserve(std::size_t n) {
    if (!open_.load()) return false;
    if (pending_.fetch_add(n) + n > slot_core().options.ws_max_pending_send_bytes) {
      pending_.fetch_sub(n);
      asio::post(ws_.get_executor(), [self = shared_from_this()] {
        self->finish(reason::send_queue_full, asio::error::no_buffer_space);
      });
      return false;
    }
    return true;
  }

  void flush() {
    if (deflate_) return flush_through_beast();
    flush_direct();
  }

  // Without permessage-deflate each message is framed here and appended to the stream below whole; the
  // frames go out in a few large socket writes once the queue is empty. Past the stream's high water the
  // queue waits for the socket (a peer that does not read fills it up to the cap).
  void flush_direct() {
    if (writing_ || closed_ || closing_) return;
    CoalescingStream& out = ws_.next_layer();
    out.hold();
    while (!queue_.empty()) {
      if (!out.has_room()) {
        writing_ = true;
        out.async_wait_room([self = shared_from_this()](error_code ec) {
          self->writing_ = false;
          if (self->closed_) return;
          if (ec) return self->finish(reason::write_error, ec);
          self->flush_direct();
        });
        break;
      }
      const Outgoing& next = queue_.front();
      // false: the socket failed or a close frame went out: dropped
      const bool appended = next.framed ? out.append_frames(next.bytes) : out.append_text_frame(next.bytes);
      pending_.fetch_sub(next.bytes.size());
      queue_.pop_front();
      if (!appended) {
        for (const Outgoing& m : queue_) pending_.fetch_sub(m.bytes.size());
        queue_.clear();
      }
    }
    out.release();
  }

  // With permessage-deflate, Beast compresses and frames each message; while more messages wait, their
  // frames are gathered into a few large socket writes (the stream below holds them); they go out as soon
  // as the queue is empty.
  void flush_through_beast() {
    if (queue_.empty()) ws_.next_layer().release();
    if (writing_ || queue_.empty() || closed_ || closing_) return;
    if (queue_.size() > 1) ws_.next_layer().hold();
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front().bytes), [self = shared_from_this()](error_code ec, std::size_t) {
      self->writing_ = false;
      if (self->closed_) return;
      self->pending_.fetch_sub(self->queue_.front().bytes.size());
      self->queue_.pop_front();
      if (ec) {
        if (self->closing_) return;
        return self->finish(ec == beast::error::timeout ? reason::idle_timeout : reason::write_error, ec);
      }
      self->flush();
    });
  }

  void graceful_close(websocket::close_reason cr, std::string_view why) {
    if (closed_ || closing_) return;
    if (!open_.load()) return finish(why, asio::error::operation_aborted);  // handshake not done yet
    closing_ = true;
    close_reason_ = why;
    ws_.next_layer().release();  // what was gathered goes before the close frame
    open_.store(false);
    timer_.expires_after(slot_core().options.ws_close_timeout);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->finish(self->close_reason_, asio::error::timed_out);
    });
    ws_.async_close(cr, [self = shared_from_this()](error_code ec) { self->finish(self->close_reason_, ec); });
  }

  void finish(std::string_view why, error_code ec) {
    if (closed_) return;
    closed_ = true;
    open_.store(false);
    timer_.cancel();
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
    queue_.clear();
    pending_.store(0);
    WsSessionHandlers h;
    {
      std::lock_guard lock(mutex_);
      h = std::move(handlers_);
      handlers_ = {};
    }
    slot_.reset();  // frees the connection slot (before on_close, so the count is right when it runs)
    if (h.on_close) h.on_close(std::string(why), ec);
  }

  std::optional<ConnectionSlot> slot_;
  const std::shared_ptr<HttpServer::Core> core_ = slot_->core_ptr();
  const std::uint64_t id_ = slot_->id();
  websocket::stream<CoalescingStream> ws_;
  asio::steady_timer timer_;
  const Request request_;
  BeastRequest breq_;
  beast::flat_buffer buffer_;
  struct Outgoing {
    std::string bytes;  // a message, or (framed) whole frames made by send_all (never with deflate)
    bool framed = false;
  };
  std::deque<Outgoing> queue_;
  std::atomic<std::size_t> pending_{0};
  std::atomic<bool> open_{false};
  bool deflate_ = false;
  bool reading_ = false, paused_ = false, writing_ = false, closing_ = false, closed_ = false;
  std::string_view close_reason_;
  std::mutex mutex_;  // guards handlers_ (set_handlers may be called from any thread)
  WsSessionHandlers handlers_;
};

}  // namespace

void start_ws_session(ConnectionSlot slot, beast::tcp_stream stream, BeastRequest beast_request, Request request) {
  stream.expires_never();
  auto session = std::make_shared<WsSession>(std::move(slot), std::move(stream), std::move(request));
  session->run(std::move(beast_request));
}

}  // namespace pb::net::detail
