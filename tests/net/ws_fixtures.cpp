#include "ws_fixtures.hpp"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace pb::net::test {

bool eventually(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

WsClientHandlers ClientProbe::handlers() {
  WsClientHandlers h;
  h.on_open = [this] { w.update([&] { opened = true; }); };
  h.on_message = [this](std::string&& m) {
    bool keep = true;
    w.update([&] {
      messages.push_back(std::move(m));
      keep = messages.size() < pause_after;
    });
    return keep;
  };
  h.on_binary = [this](std::string&& m) {
    w.update([&] { binaries.push_back(std::move(m)); });
    return true;
  };
  h.on_oversize = [this](std::size_t bytes) { w.update([&] { oversize.push_back(bytes); }); };
  h.on_close = [this](const std::string& r, boost::system::error_code ec) {
    w.update([&] {
      ++close_calls;
      close_reason = r;
      close_ec = ec;
    });
  };
  return h;
}

EchoServer::EchoServer(boost::asio::io_context& io, HttpServerOptions options) {
  HttpServerHandlers h;
  h.accept_websocket = [](const Request& r) { return r.path == "/ws"; };
  h.on_websocket = [this](std::shared_ptr<WsServerSession> s) {
    std::weak_ptr<WsServerSession> weak = s;
    s->set_handlers(WsSessionHandlers{
        [this, weak](std::string&& m, bool) {
          if (auto self = weak.lock()) {
            if (on_text) on_text(*self, m);
            else self->send(std::move(m));
          }
          return true;
        },
        [this](const std::string& r, boost::system::error_code) { w.update([&] { close_reasons.push_back(r); }); }});
    w.update([&] { sessions.push_back(std::move(s)); });
  };
  server = std::make_unique<HttpServer>(io, std::move(options), std::move(h));
  server->listen("127.0.0.1", 0);
}

EchoServer::~EchoServer() {
  server->stop();
  w.wait([&] { return close_reasons.size() >= sessions.size(); });
}

std::unique_ptr<WsClient> make_client(boost::asio::io_context& io, const std::string& url, ClientProbe& probe,
                                      WsClientOptions options, std::shared_ptr<boost::asio::ssl::context> tls, bool start) {
  auto parsed = parse_relay_url(url);
  EXPECT_TRUE(parsed) << parsed.error;
  auto c = std::make_unique<WsClient>(io, *parsed.url, std::vector{loopback()}, std::move(tls), std::move(options),
                                      probe.handlers());
  if (start) c->start();
  return c;
}

}  // namespace pb::net::test
