// HTTP/1.1 + WebSocket server on one port, driven by a caller-supplied io_context. Beast-free header.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "net/http_types.hpp"
#include "net/ws_server_session.hpp"

namespace boost::asio {
class io_context;
}

namespace pb::net {

struct HttpServerOptions {
  std::size_t max_connections = 1024;            // HTTP + WebSocket; beyond it: 503 and close
  std::size_t body_limit = 1 << 20;              // request body; beyond it: 413 and close
  std::uint32_t header_limit = 16 * 1024;        // request line + headers; beyond it: 431 and close
  std::chrono::milliseconds read_timeout{30'000};   // to receive one whole request (also keep-alive idle)
  std::chrono::milliseconds write_timeout{60'000};  // to send one response
  std::size_t ws_read_message_max = 1 << 20;     // inbound message; beyond it: close 1009, "message too big"
  std::size_t ws_max_pending_send_bytes = 8 << 20;  // queued output; beyond it the session is dropped
  std::chrono::milliseconds ws_idle_timeout{120'000};  // ping at half of it, close if the peer stays silent
  std::chrono::milliseconds ws_close_timeout{3'000};   // bound on a graceful close handshake
  bool ws_permessage_deflate = true;             // accept permessage-deflate when offered
  std::string server_name = "proton-beam";
};

struct HttpServerHandlers {
  // Every HTTP request that is not accepted as a WebSocket. Runs on the connection's strand; the Responder
  // may be completed later from any thread. Unset: 404 for everything.
  std::function<void(const Request&, Responder)> on_request;
  // For upgrade requests: true to accept as a WebSocket. Unset: upgrades go to on_request.
  std::function<bool(const Request&)> accept_websocket;
  // A new session; set its handlers here. Runs on the session's strand.
  std::function<void(std::shared_ptr<WsServerSession>)> on_websocket;
};

struct HttpServerStats {
  std::uint64_t accepted = 0;          // connections accepted (including rejected ones)
  std::uint64_t rejected_over_cap = 0; // answered 503 because of max_connections
  std::size_t active = 0;              // live HTTP + WebSocket connections
  std::uint64_t requests = 0;          // HTTP requests dispatched
  std::uint64_t websockets = 0;        // WebSocket sessions opened
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, HttpServerHandlers handlers);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (port 0 = any free port) and starts accepting. Returns the bound port.
  // Throws boost::system::system_error on failure. Call once.
  std::uint16_t listen(const std::string& host, std::uint16_t port);
  std::uint16_t port() const;
  // Stops accepting and closes every connection (WebSockets get a going-away close frame, bounded by
  // ws_close_timeout). Thread-safe, idempotent. Afterwards io_context::run() returns once all is torn down.
  void stop();
  HttpServerStats stats() const;

  struct Core;

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace pb::net
