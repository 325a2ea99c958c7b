// Internal to pb_net: the state shared by the listener and every server connection. Includes Beast.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/http_server.hpp"

namespace pb::net {

namespace detail {

// A live connection (HTTP or WebSocket) that stop() can shut down.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void shutdown() = 0;  // thread-safe; posts to the connection's strand
};

class ConnectionSlot;

}  // namespace detail

struct HttpServer::Core : std::enable_shared_from_this<HttpServer::Core> {
  Core(boost::asio::io_context& io_, HttpServerOptions options_, HttpServerHandlers handlers_)
      : io(io_), options(std::move(options_)), handlers(std::move(handlers_)), acceptor(boost::asio::make_strand(io_)) {}

  // A slot for a new connection, or nothing if over the cap or stopping.
  std::optional<detail::ConnectionSlot> acquire();
  // Registers (or re-registers after an upgrade) the connection holding slot id. False if stopping.
  bool attach(std::uint64_t id, std::weak_ptr<detail::Connection> conn);
  void release(std::uint64_t id);
  bool stopping() const;

  boost::asio::io_context& io;
  const HttpServerOptions options;
  const HttpServerHandlers handlers;
  boost::asio::ip::tcp::acceptor acceptor;  // on its own strand
  std::atomic<std::uint64_t> accepted{0}, rejected{0}, requests{0}, websockets{0};
  std::atomic<std::uint16_t> port{0};

  mutable std::mutex mutex;
  bool stopped = false;
  std::uint64_t next_id = 1;
  std::unordered_map<std::uint64_t, std::weak_ptr<detail::Connection>> live;
};

namespace detail {

// Counts one connection against max_connections for as long as it lives (moved from HTTP to WS session).
class ConnectionSlot {
 public:
  ConnectionSlot(std::shared_ptr<HttpServer::Core> core, std::uint64_t id) : core_(std::move(core)), id_(id) {}
  ConnectionSlot(ConnectionSlot&& o) noexcept : core_(std::move(o.core_)), id_(o.id_) {}
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ConnectionSlot(const ConnectionSlot&) = delete;
  ~ConnectionSlot() {
    if (core_) core_->release(id_);
  }
  std::uint64_t id() const { return id_; }
  HttpServer::Core& core() const { return *core_; }
  const std::shared_ptr<HttpServer::Core>& core_ptr() const { return core_; }

 private:
  std::shared_ptr<HttpServer::Core> core_;
  std::uint64_t id_;
};

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Takes over an upgraded connection: WebSocket accept, then the session's read loop (ws_server_session.cpp).
void start_ws_session(ConnectionSlot slot, boost::beast::tcp_stream stream, BeastRequest beast_request,
                      Request request);

}  // namespace detail
}  // namespace pb::net
