// One outbound WebSocket connection (ws:// or wss://) driven by a caller-supplied io_context.
// Thousands of these can share one or two io threads; each connection runs on its own strand.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include "net/relay_url.hpp"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace pb::net {

struct WsClientOptions {
  std::chrono::milliseconds connect_timeout{10'000};  // TCP connect + TLS + WebSocket handshake, in total
  std::chrono::milliseconds ping_interval{30'000};    // 0 disables keepalive pings
  std::chrono::milliseconds pong_timeout{10'000};     // close with "ping timeout" if nothing arrives
  std::chrono::milliseconds close_timeout{3'000};     // bound on the graceful close handshake
  std::size_t read_message_max = 1 << 20;             // bigger inbound message: skipped (on_oversize); over
                                                      // 16 times this: close with "message too big"
  std::size_t max_pending_send_bytes = 4 << 20;       // send() refuses beyond this many queued bytes
  bool permessage_deflate = true;                     // offer permessage-deflate
  std::string user_agent = "proton-beam";
};

enum class WsState { connecting, open, closing, closed };

struct WsClientHandlers {
  std::function<void()> on_open;
  // A text message. Return true to keep reading, false to pause until resume_reading().
  std::function<bool(std::string&&)> on_message;
  // A binary message (same contract). If empty, binary messages are counted and dropped.
  std::function<bool(std::string&&)> on_binary;
  // A message over read_message_max was skipped (never held whole); `bytes` is its size. Reading goes on.
  std::function<void(std::size_t bytes)> on_oversize;
  // Called exactly once, unless the WsClient was destroyed first. reason is one of net/close_reason.hpp.
  std::function<void(const std::string& reason, boost::system::error_code ec)> on_close;
};

struct WsClientStats {
  std::uint64_t messages_in = 0;  // text messages delivered
  std::uint64_t binary_in = 0;    // binary messages (delivered or dropped)
  std::uint64_t bytes_in = 0;     // payload bytes (after inflate)
  std::uint64_t messages_out = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t pings_sent = 0;
  std::uint64_t pongs_received = 0;
  bool deflate_negotiated = false;  // the server accepted permessage-deflate
  int peer_close_code = 0;          // close code from the peer's close frame, 0 if none
};

class WsClient {
 public:
  // endpoints: the already resolved and checked addresses of url.host, tried in order on url.port; the
  // client never resolves names itself. tls must be set for wss:// (see tls_context.hpp). Handlers run on
  // the connection's strand (an io thread). Nothing happens until start().
  WsClient(boost::asio::io_context& io, RelayUrl url, std::vector<boost::asio::ip::address> endpoints,
           std::shared_ptr<boost::asio::ssl::context> tls, WsClientOptions options, WsClientHandlers handlers);
  // Detaches the handlers (none runs after the destructor returns; if called from another thread while a
  // handler runs, it waits for that handler) and aborts the connection. Safe with operations pending.
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  void start();
  // Queues a text message. Thread-safe. Returns false (message dropped) if the connection is not
  // connecting/open or if the pending output would exceed max_pending_send_bytes. Messages sent while
  // connecting go out right after the handshake.
  bool send(std::string text);
  // Restarts reading after a handler returned false. Thread-safe; a no-op if reading is not paused.
  void resume_reading();
  // Graceful close (close frame, bounded by close_timeout). Thread-safe. on_close gets "closed locally".
  void close();

  WsState state() const;
  WsClientStats stats() const;
  std::size_t pending_send_bytes() const;
  const RelayUrl& url() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace pb::net
