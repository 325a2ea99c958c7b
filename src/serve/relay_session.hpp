// One NIP-01 client on a WebSocket: REQ / CLOSE / COUNT / EVENT in, EVENT / EOSE / CLOSED / NOTICE / COUNT /
// OK out. Runs on the session's strand; queries go to the worker pool, which sends their answers.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <simdjson.h>

#include "net/ws_server_session.hpp"
#include "serve/server_context.hpp"

namespace pb::serve {

class RelaySession : public std::enable_shared_from_this<RelaySession> {
 public:
  RelaySession(std::shared_ptr<net::WsServerSession> ws, ServerContext& ctx);
  // Installs the handlers (call inside HttpServerHandlers::on_websocket).
  static void attach(std::shared_ptr<net::WsServerSession> ws, ServerContext& ctx);

 private:
  bool on_message(std::string&& payload, bool is_binary);
  void on_close();
  void handle(simdjson::dom::array msg);
  void handle_req(simdjson::dom::array msg, std::string_view sub_id);
  void handle_count(simdjson::dom::array msg, std::string_view sub_id);
  void handle_close(std::string_view sub_id);
  void handle_event(simdjson::dom::array msg);
  void send(std::string message);
  void forget_closed();

  std::weak_ptr<net::WsServerSession> ws_;
  ServerContext& ctx_;
  std::string ip_;
  simdjson::dom::parser parser_;
  std::map<std::string, std::shared_ptr<Subscription>, std::less<>> subs_;
};

}  // namespace pb::serve
