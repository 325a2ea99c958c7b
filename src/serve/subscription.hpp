// One open REQ of a WebSocket session: its filters and where its messages go. Shared by the session (which
// owns it), the worker running its snapshot and the live tail; closed once it is replaced or CLOSEd.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "net/ws_server_session.hpp"
#include "nostr/filter.hpp"

namespace pb::serve {

struct Subscription {
  std::string id;
  std::vector<Filter> filters;
  std::weak_ptr<net::WsServerSession> session;
  std::atomic<bool> closed{false};

  // Sends unless closed or the session is gone; false when nothing was sent.
  bool send(std::string message) const {
    if (closed.load()) return false;
    const auto s = session.lock();
    return s && s->send(std::move(message));
  }
  bool send_all(std::vector<std::string> messages) const {
    if (closed.load()) return false;
    const auto s = session.lock();
    return s && s->send_all(std::move(messages));
  }
};

}  // namespace pb::serve
