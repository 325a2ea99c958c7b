// HttpServer: routing data, limits, keep-alive, deferred responses, connection cap.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "net/http_server.hpp"
#include "ws_fixtures.hpp"

namespace pb::net::test {
namespace {

// Serves:  /echo  -> "method|path|a=<a>|b=<b>|x-test=<header>|remote|body-size"
//          /big   -> 8 MB body
//          /later -> answered from a worker thread
//          /drop  -> the Responder is dropped without an answer
//          /stream?n=N&abort=1 -> answered from a worker thread: N pieces "piece i;" from a BodySource
//                                 (chunked), then the end (or a throw: the connection closes mid-body)
//          /endless -> 16 KiB pieces until 480 MiB, counted in endless_pieces
//          else   -> 404
class HttpFixture : public ::testing::Test {
 protected:
  void start(HttpServerOptions options = {}) {
    HttpServerHandlers h;
    h.on_request = [this](const Request& req, Responder res) {
      if (req.path == "/echo") {
        res.respond(Response::text(200, req.method + "|" + req.path + "|a=" + std::string(req.query_param("a").value_or("-")) +
                                            "|b=" + std::string(req.query_param("b").value_or("-")) + "|x-test=" +
                                            std::string(req.header("X-TEST").value_or("-")) + "|" + req.remote_address +
                                            "|" + std::to_string(req.body.size())));
      } else if (req.path == "/big") {
        res.respond(Response::text(200, std::string(8u << 20, 'B')));
      } else if (req.path == "/later") {
        std::lock_guard lock(workers_mutex);
        workers.emplace_back([res, tid = std::this_thread::get_id()] {
          Response r = Response::json(202, "{\"other_thread\":" +
                                               std::string(std::this_thread::get_id() != tid ? "true" : "false") + "}");
          r.headers.emplace_back("X-Worker", "1");
          res.respond(std::move(r));
        });
      } else if (req.path == "/stream") {
        const int n = std::stoi(std::string(req.query_param("n").value_or("3")));
        const bool abort = req.query_param("abort").has_value();
        std::lock_guard lock(workers_mutex);
        workers.emplace_back([res, n, abort] {  // answered from another thread, like serve's workers
          Response head = Response::text(200, "");
          head.content_type = "application/x-ndjson";
          head.source = [n, abort, i = 0](std::string& piece) mutable {
            if (i < n) piece = "piece " + std::to_string(i++) + ";";
            if (i < n) return true;
            if (abort) throw std::runtime_error("cannot finish");
            return false;
          };
          res.respond(std::move(head));
        });
      } else if (req.path == "/endless") {
        // 16 KiB pieces, bounded (30,000 = 480 MiB); counts its pieces and tells when it is released.
        auto alive = std::make_shared<int>(0);
        endless_alive = alive;
        Response head = Response::text(200, "");
        head.source = [this, alive](std::string& piece) {
          piece.assign(16 * 1024, 'e');
          return ++endless_pieces < 30'000;
        };
        res.respond(std::move(head));
      } else if (req.path == "/drop") {
        // res goes out of scope unanswered
      } else {
        res.respond(Response::text(404, "nope"));
      }
    };
    server = std::make_unique<HttpServer>(io.io(), options, std::move(h));
    port = server->listen("127.0.0.1", 0);
  }
  void TearDown() override {
    std::lock_guard lock(workers_mutex);
    for (auto& t : workers) t.join();
  }

  IoThread io;
  std::unique_ptr<HttpServer> server;
  std::uint16_t port = 0;
  std::mutex workers_mutex;
  std::vector<std::thread> workers;
  std::atomic<int> endless_pieces{0};
  std::weak_ptr<int> endless_alive;  // expires when the /endless source is destroyed

  // Waits until endless_pieces stops moving (unchanged over 20 looks 25 ms apart, at most kWait).
  int endless_pieces_when_settled() {
    int last = -1, same = 0;
    for (auto t0 = std::chrono::steady_clock::now(); same < 20 && std::chrono::steady_clock::now() - t0 < kWait;) {
      const int now = endless_pieces.load();
      same = now == last ? same + 1 : 0;
      last = now;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return last;
  }
  bool endless_released() {
    for (auto t0 = std::chrono::steady_clock::now(); std::chrono::steady_clock::now() - t0 < kWait;) {
      if (endless_alive.expired()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
};

// A raw client that asks for /endless and reads `first` bytes, with a small receive buffer.
struct EndlessReader {
  explicit EndlessReader(std::uint16_t port, std::size_t first) : sock(cio) {
    sock.open(boost::asio::ip::tcp::v4());
    sock.set_option(boost::asio::socket_base::receive_buffer_size(16 * 1024));
    sock.connect({loopback(), port});
    const std::string req = "GET /endless HTTP/1.1\r\nHost: x\r\n\r\n";
    boost::asio::write(sock, boost::asio::buffer(req));
    read(first);
  }
  std::size_t read(std::size_t n) {  // up to n bytes; fewer only if the connection ends
    std::vector<char> buf(n);
    boost::system::error_code ec;
    return boost::asio::read(sock, boost::asio::buffer(buf), ec);
  }
  boost::asio::io_context cio;
  boost::asio::ip::tcp::socket sock;
};

TEST_F(HttpFixture, GetWithDecodedQueryAndCaseInsensitiveHeader) {
  start();
  ASSERT_NE(port, 0);
  HttpTestClient c(port);
  auto r = c.request("GET", "/echo?a=hello%20world&b=x+y&c", {}, {{"x-Test", "v1"}});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET|/echo|a=hello world|b=x y|x-test=v1|127.0.0.1|0");
  EXPECT_EQ(r.headers["content-type"], "text/plain; charset=utf-8");
  EXPECT_EQ(r.headers["server"], "proton-beam");
}

TEST_F(HttpFixture, PostBody) {
  start();
  HttpTestClient c(port);
  auto r = c.request("POST", "/echo", std::string(5000, 'p'));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.body, "POST|/echo|a=-|b=-|x-test=-|127.0.0.1|5000");
}

TEST_F(HttpFixture, NotFound) {
  start();
  HttpTestClient c(port);
  auto r = c.request("GET", "/nothing-here");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 404);
}

TEST_F(HttpFixture, BodyTooLargeIs413AndCloses) {
  HttpServerOptions o;
  o.body_limit = 1024;
  start(o);
  HttpTestClient c(port);
  auto ok = c.request("POST", "/echo", std::string(1024, 'k'));
  ASSERT_TRUE(ok.ok) << ok.error;
  EXPECT_EQ(ok.status, 200);
  auto r = c.request("POST", "/echo", std::string(4096, 'x'));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpFixture, HeaderTooLargeIs431) {
  HttpServerOptions o;
  o.header_limit = 1024;
  start(o);
  HttpTestClient c(port);
  auto r = c.request("GET", "/echo", {}, {{"X-Big", std::string(4000, 'h')}});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 431);
}

TEST_F(HttpFixture, KeepAliveServesTwoRequestsOnOneConnection) {
  start();
  HttpTestClient c(port);
  auto r1 = c.request("GET", "/echo?a=1");
  auto r2 = c.request("GET", "/echo?a=2");
  ASSERT_TRUE(r1.ok && r2.ok);
  EXPECT_EQ(r1.body.substr(0, 14), "GET|/echo|a=1|");
  EXPECT_EQ(r2.body.substr(0, 14), "GET|/echo|a=2|");
  EXPECT_EQ(server->stats().accepted, 1u);
  EXPECT_EQ(server->stats().requests, 2u);
}

TEST_F(HttpFixture, ResponseCompletedFromAnotherThread) {
  start();
  HttpTestClient c(port);
  auto r = c.request("GET", "/later");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, "{\"other_thread\":true}");
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.headers["x-worker"], "1");
  auto again = c.request("GET", "/echo");  // the connection is still usable
  ASSERT_TRUE(again.ok);
  EXPECT_EQ(again.status, 200);
}

TEST_F(HttpFixture, StreamedBodyArrivesChunkedAndTheConnectionStaysUsable) {
  start();
  HttpTestClient c(port);
  auto r = c.request("GET", "/stream?n=2000");
  ASSERT_TRUE(r.ok) << r.error << " status " << r.status << " body " << r.body.size();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  EXPECT_EQ(r.headers["content-type"], "application/x-ndjson");
  std::string want;
  for (int i = 0; i < 2000; ++i) want += "piece " + std::to_string(i) + ";";
  EXPECT_EQ(r.body, want);
  auto empty = c.request("GET", "/stream?n=0");  // keep-alive: the same connection, an empty body
  ASSERT_TRUE(empty.ok) << empty.error;
  EXPECT_EQ(empty.body, "");
  auto again = c.request("GET", "/echo");
  ASSERT_TRUE(again.ok);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(server->stats().accepted, 1u);
}

TEST_F(HttpFixture, AbortedStreamClosesTheConnectionMidBody) {
  start();
  HttpTestClient c(port);
  auto r = c.request("GET", "/stream?n=5&abort=1");
  EXPECT_FALSE(r.ok);  // the body never ends: the client sees the connection close before the last chunk
}

// HTTP/1.0 has no chunked encoding: a streamed body is gathered and sent whole, with its length.
TEST_F(HttpFixture, StreamedBodyToAnHttp10ClientIsSentWhole) {
  start();
  boost::asio::io_context cio;
  boost::asio::ip::tcp::socket sock(cio);
  sock.connect({loopback(), port});
  const std::string req = "GET /stream?n=5 HTTP/1.0\r\nHost: x\r\n\r\n";
  boost::asio::write(sock, boost::asio::buffer(req));
  std::string got;
  std::array<char, 4096> buf{};
  boost::system::error_code ec;
  while (!ec) got.append(buf.data(), sock.read_some(boost::asio::buffer(buf), ec));  // until the server closes
  const std::string body = "piece 0;piece 1;piece 2;piece 3;piece 4;";
  EXPECT_EQ(got.find("Transfer-Encoding"), std::string::npos) << got;
  EXPECT_NE(got.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos) << got;
  EXPECT_TRUE(got.ends_with("\r\n\r\n" + body)) << got;
}

// A client that leaves mid-body: the source is destroyed (with what it holds), and the server goes on.
TEST_F(HttpFixture, StreamToAClientThatLeavesIsReleased) {
  start();
  { EndlessReader reader(port, 64 * 1024); }  // closed mid-body
  EXPECT_TRUE(endless_released());
  EXPECT_LT(endless_pieces.load(), 30'000);
  HttpTestClient c(port);
  auto r = c.request("GET", "/echo");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
}

// A client that stops reading holds the source back: only what the socket buffers take is made (a few
// MiB), not the 480 MiB the source could give; when it reads again, the body goes on.
TEST_F(HttpFixture, SlowReaderHoldsTheSourceBack) {
  start();
  EndlessReader reader(port, 4096);
  const int made = endless_pieces_when_settled();
  EXPECT_LT(made, 2048) << "pieces made for a client that does not read: " << made;  // < 32 MiB
  EXPECT_EQ(reader.read(8u << 20), 8u << 20);
  EXPECT_GT(endless_pieces.load(), made);
}

// Stopping the server cuts a streamed body (it could last as long as a slow client makes it) and
// releases its source; the io threads finish.
TEST_F(HttpFixture, StopCutsAStreamedBody) {
  start();
  EndlessReader reader(port, 4096);
  endless_pieces_when_settled();
  server->stop();
  EXPECT_LT(reader.read(600u << 20), 64u << 20);  // what the socket buffers held, not the 480 MiB body
  EXPECT_TRUE(endless_released());
  EXPECT_TRUE(io.drain());
}

TEST_F(HttpFixture, DroppedResponderAnswers500) {
  start();
  HttpTestClient c(port);
  auto r = c.request("GET", "/drop");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 500);
}

TEST_F(HttpFixture, LargeBody) {
  start();
  HttpTestClient c(port);
  auto r = c.request("GET", "/big");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.body.size(), 8u << 20);
  EXPECT_EQ(r.body.find_first_not_of('B'), std::string::npos);
}

TEST_F(HttpFixture, ConnectionCapAnswers503) {
  HttpServerOptions o;
  o.max_connections = 2;
  start(o);
  auto c1 = std::make_unique<HttpTestClient>(port);
  HttpTestClient c2(port);
  ASSERT_EQ(c1->request("GET", "/echo").status, 200);  // both are accepted and counted
  ASSERT_EQ(c2.request("GET", "/echo").status, 200);
  HttpTestClient c3(port);
  auto r = c3.request("GET", "/echo");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(c3.closed_by_server());
  EXPECT_EQ(server->stats().rejected_over_cap, 1u);
  c1.reset();  // frees a slot
  ASSERT_TRUE(eventually([&] { return server->stats().active < 2; }));
  HttpTestClient c4(port);
  EXPECT_EQ(c4.request("GET", "/echo").status, 200);
}

TEST_F(HttpFixture, UpgradeNotAcceptedGoesToHandler) {
  start();  // no accept_websocket: a WebSocket client gets the handler's 404 instead of a session
  ClientProbe probe;
  auto client = make_client(io.io(), "ws://127.0.0.1:" + std::to_string(port) + "/ws", probe);
  ASSERT_TRUE(probe.wait_closed());
  EXPECT_EQ(probe.reason(), reason::handshake_failed);
}

TEST_F(HttpFixture, StopClosesIdleKeepAliveConnections) {
  start();
  HttpTestClient c(port);
  ASSERT_EQ(c.request("GET", "/echo").status, 200);
  server->stop();
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_TRUE(io.drain());
}

TEST(HttpTypes, PercentDecodingAndQuery) {
  EXPECT_EQ(percent_decode("a%20b%2Fc+d", false), "a b/c+d");
  EXPECT_EQ(percent_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(percent_decode("bad%zzx%4", false), "bad%zzx%4");
  auto q = parse_query("x=1&&y=%41&z&x=2");
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"x", "1"}));
  EXPECT_EQ(q[1], (std::pair<std::string, std::string>{"y", "A"}));
  EXPECT_EQ(q[2], (std::pair<std::string, std::string>{"z", ""}));
  Request r;
  r.target = "/p%61th?x=1";
  split_target(r);
  EXPECT_EQ(r.path, "/path");
  EXPECT_EQ(r.query_param("x").value_or(""), "1");
  EXPECT_FALSE(r.query_param("nope").has_value());
}

}  // namespace
}  // namespace pb::net::test
