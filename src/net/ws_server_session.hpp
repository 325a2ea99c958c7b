// A server-side WebSocket session created by HttpServer after an accepted upgrade. Beast-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/system/error_code.hpp>

#include "net/http_types.hpp"

namespace pb::net {

struct WsSessionHandlers {
  // A message. Return true to keep reading, false to pause until resume_reading().
  std::function<bool(std::string&& payload, bool is_binary)> on_message;
  // Called once when the session ends; reason is one of net/close_reason.hpp. Handlers are released after.
  std::function<void(const std::string& reason, boost::system::error_code ec)> on_close;
};

class WsServerSession {
 public:
  virtual ~WsServerSession() = default;

  // Install the handlers. Call it inside HttpServerHandlers::on_websocket (reading starts right after).
  virtual void set_handlers(WsSessionHandlers handlers) = 0;
  // Queues a text message. Thread-safe. If the pending output would exceed the cap, the session is closed
  // (reason "send queue full": a peer that does not read is dropped) and false is returned.
  virtual bool send(std::string text) = 0;
  // Queues several text messages, in order, as one hand-over to the connection's thread (cheaper than one
  // send() each for a burst: one wake-up, and the socket is corked while the burst is written). The cap
  // applies to their total. Thread-safe.
  virtual bool send_all(std::vector<std::string> texts) = 0;
  // Graceful close with a close frame carrying `why` (bounded wait). Thread-safe. on_close: "closed locally".
  virtual void close(std::string why) = 0;
  // Restarts reading after on_message returned false. Thread-safe.
  virtual void resume_reading() = 0;

  virtual std::uint64_t id() const = 0;  // unique per server
  virtual const std::string& remote_address() const = 0;
  virtual const Request& request() const = 0;  // the upgrade request (path, query, headers)
  virtual bool deflate_negotiated() const = 0;
  virtual std::size_t pending_send_bytes() const = 0;
  virtual bool is_open() const = 0;
};

}  // namespace pb::net
