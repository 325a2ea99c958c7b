// The layer under a server WebSocket session's Beast stream that turns a burst of messages into a few
// large socket writes. Beast writes one frame per message, each a `sendmsg` of its own; a query answer of
// 300 events was 300 system calls, and the network threads spent as much CPU as the query workers.
//
// Between hold() and release() the frames Beast writes are gathered in a buffer and their writes complete
// at once (posted, never inline); the buffer goes to the socket when it reaches kFlushBytes or at
// release(). Outside a hold, a write completes only once its bytes are on the socket, so Beast's own
// frames (handshake, pong, close) keep their order and are sent before a teardown. Back-pressure is kept:
// past kHighWaterBytes of unsent bytes a write waits for the socket, so a peer that does not read still
// fills the session's send queue and is dropped by its cap.
//
// Every member runs on the stream's executor (the session's strand). An in-flight socket write holds the
// owner (set_owner) alive, so the session outlives it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace pb::net::detail {

class CoalescingStream {
 public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;
  using error_code = boost::system::error_code;

  static constexpr std::size_t kFlushBytes = 64 << 10;
  static constexpr std::size_t kHighWaterBytes = 256 << 10;
  static constexpr std::size_t kIdleKeepBytes = 16 << 10;
  // A teardown reads what the peer still sends until its end of stream, at most this much or this long.
  static constexpr std::size_t kTeardownDrainBytes = 16 << 20;
  static constexpr std::chrono::seconds kTeardownTime{5};

  explicit CoalescingStream(next_layer_type next) : next_(std::move(next)), wake_(next_.get_executor()) {
    wake_.expires_at(std::chrono::steady_clock::time_point::max());
  }

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() noexcept { return next_; }
  const next_layer_type& next_layer() const noexcept { return next_; }

  // What an in-flight socket write keeps alive (the session that owns this stream). Required: without
  // an owner nothing is written.
  void set_owner(std::weak_ptr<void> owner) { owner_ = std::move(owner); }

  // Starts gathering writes; release() sends what was gathered.
  void hold() { held_ = true; }
  void release() {
    held_ = false;
    flush();
  }

  // Appends a whole unmasked text frame (FIN, opcode 1) carrying `payload`, written by the session itself
  // rather than through Beast (without permessage-deflate a frame is just a header; Beast's write machinery
  // per message cost more than the rest of the send path). Frames from Beast only ever come whole (its
  // control frames are one write each), so the two never interleave inside a frame. False, and nothing
  // appended, once the socket failed or Beast sent a close frame (no data may follow it).
  bool append_text_frame(std::string_view payload) {
    if (error_ || close_sent_) return false;
    const std::size_t before = pending_.size();
    append_text_frame_to(pending_, payload);
    appended_ += pending_.size() - before;
    flush();
    return true;
  }
  // Appends whole frames made by append_text_frame_to() (on another thread: the framing and the
  // messages' memory stay with the thread that made them). False as for append_text_frame.
  bool append_frames(std::string_view frames) {
    if (error_ || close_sent_) return false;
    pending_.append(frames);
    appended_ += frames.size();
    flush();
    return true;
  }
  // A whole unmasked text frame (FIN, opcode 1) carrying `payload`, appended to `out`.
  static void append_text_frame_to(std::string& out, std::string_view payload) {
    char header[10];
    std::size_t n = 2;
    header[0] = static_cast<char>(0x81);
    const std::uint64_t size = payload.size();
    if (size < 126) {
      header[1] = static_cast<char>(size);
    } else if (size <= 0xffff) {
      header[1] = 126;
      for (int i = 0; i < 2; ++i) header[2 + i] = static_cast<char>(size >> (8 * (1 - i)));
      n = 4;
    } else {
      header[1] = 127;
      for (int i = 0; i < 8; ++i) header[2 + i] = static_cast<char>(size >> (8 * (7 - i)));
      n = 10;
    }
    out.append(header, n);
    out.append(payload);
  }
  // Whether another frame may be appended now (fewer than kHighWaterBytes wait for the socket).
  bool has_room() const { return error_ || appended_ - flushed_ <= kHighWaterBytes; }
  // Completes (never inline) once has_room(), with the socket's error if it failed.
  template <class Handler>
  auto async_wait_room(Handler&& handler) {
    return boost::asio::async_compose<Handler, void(error_code)>(RoomOp{this}, handler, next_);
  }

  // The end of a WebSocket connection (Beast's close and failed reads call it through async_teardown
  // below): the server shuts its sending side down, reads and drops what the peer still sends until the
  // peer's end of stream (within kTeardownDrainBytes / kTeardownTime), then closes the socket. Beast 1.74's
  // own TCP teardown stops after the first read that returns data (it tests a stale byte count), so a peer
  // still sending, such as the rest of an oversized message, found the socket closed with its input unread:
  // the kernel then resets the connection and the peer loses the close frame (1006 instead of 1009).
  template <class Handler>
  auto async_drain_and_close(boost::beast::role_type role, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(error_code)>(TeardownOp{this, role}, handler, next_);
  }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return next_.async_read_some(buffers, std::forward<Handler>(handler));
  }

  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(error_code, std::size_t)>(WriteOp<ConstBuffers>{this, buffers},
                                                                               handler, next_);
  }

 private:
  template <class ConstBuffers>
  struct WriteOp {
    CoalescingStream* s;
    ConstBuffers buffers;
    std::uint64_t end = 0;  // s->appended_ once this write's bytes are in
    std::size_t size = 0;
    bool started = false;

    template <class Self>
    void operator()(Self& self, error_code = {}) {
      if (!started) {
        started = true;
        if (!s->error_) size = s->append(buffers);
        end = s->appended_;
        return boost::asio::post(s->get_executor(), std::move(self));  // a write never completes inline
      }
      if (s->done(end)) return self.complete(s->error_, s->error_ ? 0 : size);
      s->wake_.async_wait(std::move(self));  // cancelled at each socket write's end: look again
    }
  };

  struct RoomOp {
    CoalescingStream* s;
    bool started = false;

    template <class Self>
    void operator()(Self& self, error_code = {}) {
      if (!started) {
        started = true;
        return boost::asio::post(s->get_executor(), std::move(self));
      }
      if (s->has_room()) return self.complete(s->error_);
      s->wake_.async_wait(std::move(self));
    }
  };

  struct TeardownOp {
    CoalescingStream* s;
    boost::beast::role_type role;
    std::size_t drained = 0;
    bool started = false;

    template <class Self>
    void operator()(Self& self, error_code ec = {}, std::size_t n = 0) {
      if (!started) {
        auto& socket = s->next_.socket();
        started = true;
        error_code ignored;  // (a socket the peer reset fails the read below: never completes inline)
        if (role == boost::beast::role_type::server) socket.shutdown(socket.shutdown_send, ignored);
        s->drain_.resize(4096);
        s->next_.expires_after(kTeardownTime);
        return s->next_.async_read_some(boost::asio::buffer(s->drain_), std::move(self));
      }
      drained += n;
      if (!ec && drained < kTeardownDrainBytes)
        return s->next_.async_read_some(boost::asio::buffer(s->drain_), std::move(self));
      // The peer's end of stream, or enough waiting: done either way.
      if (ec == boost::asio::error::eof || ec == boost::beast::error::timeout || !ec) ec = {};
      finish(self, ec);
    }

    template <class Self>
    void finish(Self& self, error_code ec) {
      error_code ignored;
      s->next_.socket().close(ignored);
      s->next_.expires_never();
      std::string().swap(s->drain_);
      self.complete(ec);
    }
  };

  template <class ConstBuffers>
  std::size_t append(const ConstBuffers& buffers) {
    std::size_t n = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
      const boost::asio::const_buffer b(*it);
      // A close frame from Beast (FIN + opcode 8 opens the write): no data frame may follow it.
      if (n == 0 && b.size() > 0 && static_cast<unsigned char>(*static_cast<const char*>(b.data())) == 0x88)
        close_sent_ = true;
      pending_.append(static_cast<const char*>(b.data()), b.size());
      n += b.size();
    }
    appended_ += n;
    flush();
    return n;
  }

  bool done(std::uint64_t end) const {
    if (error_ || flushed_ >= end) return true;
    return held_ && appended_ - flushed_ <= kHighWaterBytes;
  }

  void flush() {
    if (writing_ || error_ || pending_.empty() || (held_ && pending_.size() < kFlushBytes)) return;
    auto keep = owner_.lock();
    if (!keep) {  // no owner (or it is being destroyed): nothing may outlive it
      error_ = boost::asio::error::operation_aborted;
      return;
    }
    writing_ = true;
    in_flight_.swap(pending_);
    boost::asio::async_write(next_, boost::asio::buffer(in_flight_),
                             [this, keep = std::move(keep)](error_code ec, std::size_t n) { on_written(ec, n); });
  }

  void on_written(error_code ec, std::size_t n) {
    writing_ = false;
    flushed_ += n;
    if (ec) {
      error_ = ec;
      pending_.clear();
    }
    in_flight_.clear();
    // Idle again: an idle connection keeps no large buffer (a thousand quiet clients that once got a
    // big answer would otherwise hold a few hundred KiB each).
    if (pending_.empty()) {
      if (in_flight_.capacity() > kIdleKeepBytes) std::string().swap(in_flight_);
      if (pending_.capacity() > kIdleKeepBytes) std::string().swap(pending_);
    }
    wake_.cancel();
    flush();
  }

  next_layer_type next_;
  boost::asio::steady_timer wake_;  // never expires: writes waiting for the socket wait on it
  std::weak_ptr<void> owner_;
  std::string pending_, in_flight_, drain_;
  std::uint64_t appended_ = 0, flushed_ = 0;
  bool held_ = false, writing_ = false, close_sent_ = false;
  error_code error_;
};

// Beast's WebSocket close ends with a teardown of the layer below.
inline void teardown(boost::beast::role_type role, CoalescingStream& s, boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, s.next_layer(), ec);
}

template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, CoalescingStream& s, TeardownHandler&& handler) {
  s.async_drain_and_close(role, std::forward<TeardownHandler>(handler));
}

}  // namespace pb::net::detail
