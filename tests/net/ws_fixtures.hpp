// Shared pieces of the WebSocket tests: a recording client and an echo server built on pb_net.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "net/close_reason.hpp"
#include "net/http_server.hpp"
#include "net/ws_client.hpp"
#include "test_support.hpp"

namespace pb::net::test {

// Polls a condition (for counters that have no callback), up to kWait.
bool eventually(const std::function<bool()>& pred);

// Records what a WsClient reports.
struct ClientProbe {
  Waiter w;
  bool opened = false;
  std::vector<std::string> messages;
  std::vector<std::string> binaries;
  std::vector<std::size_t> oversize;  // sizes of the messages skipped for read_message_max
  std::optional<std::string> close_reason;
  boost::system::error_code close_ec;
  int close_calls = 0;
  std::size_t pause_after = SIZE_MAX;  // return false from on_message after this many messages

  WsClientHandlers handlers();
  bool wait_open() { return w.wait([&] { return opened || close_reason; }) && opened; }
  bool wait_closed() { return w.wait([&] { return close_reason.has_value(); }); }
  bool wait_messages(std::size_t n) { return w.wait([&] { return messages.size() >= n || close_reason; }) && messages.size() >= n; }
  std::string reason() {
    std::lock_guard lock(w.mutex());
    return close_reason.value_or("");
  }
  std::size_t count() {
    std::lock_guard lock(w.mutex());
    return messages.size();
  }
};

// An HttpServer on 127.0.0.1:0 whose sessions at /ws echo text messages. Sessions are recorded.
struct EchoServer {
  explicit EchoServer(boost::asio::io_context& io, HttpServerOptions options = {});
  // Stops the server and waits until every recorded session reported on_close (their handlers use this).
  ~EchoServer();
  std::uint16_t port() const { return server->port(); }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port()) + "/ws"; }
  std::shared_ptr<WsServerSession> session(std::size_t i) {
    std::lock_guard lock(w.mutex());
    return i < sessions.size() ? sessions[i] : nullptr;
  }
  bool wait_sessions(std::size_t n) { return w.wait([&] { return sessions.size() >= n; }); }
  bool wait_close_reasons(std::size_t n) { return w.wait([&] { return close_reasons.size() >= n; }); }

  Waiter w;
  std::vector<std::shared_ptr<WsServerSession>> sessions;
  std::vector<std::string> close_reasons;
  // If set, called for a message instead of echoing it.
  std::function<void(WsServerSession&, const std::string&)> on_text;
  std::unique_ptr<HttpServer> server;
};

std::unique_ptr<WsClient> make_client(boost::asio::io_context& io, const std::string& url, ClientProbe& probe,
                                      WsClientOptions options = {},
                                      std::shared_ptr<boost::asio::ssl::context> tls = nullptr, bool start = true);

}  // namespace pb::net::test
