// HttpGet against a real HttpServer on loopback: a document with the request's headers, the body cap,
// the deadline, a port with nothing listening, cancel.
#include <gtest/gtest.h>

#include <optional>

#include "net/http_get.hpp"
#include "net/http_server.hpp"
#include "test_support.hpp"

namespace pb::net::test {
namespace {

// Serves: /doc -> 200, "accept=<Accept>|host=<Host>"; /big -> 200 with 100 KiB (Content-Length); /never -> no answer
// (the Responder is kept until the fixture ends); else 404.
class HttpGetFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServerHandlers h;
    h.on_request = [this](const Request& req, Responder res) {
      if (req.path == "/doc")
        res.respond(Response::json(200, "accept=" + std::string(req.header("accept").value_or("-")) +
                                            "|host=" + std::string(req.header("host").value_or("-"))));
      else if (req.path == "/big") res.respond(Response::text(200, std::string(100 * 1024, 'x')));
      else if (req.path == "/never") waiting.update([&] { kept.push_back(res); });
      else res.respond(Response::text(404, "nope"));
    };
    server = std::make_unique<HttpServer>(io.io(), HttpServerOptions{}, std::move(h));
    port = server->listen("127.0.0.1", 0);
  }

  HttpGetResult get(const std::string& target, HttpGetOptions opts = {}, std::uint16_t to_port = 0) {
    auto url = *parse_relay_url("ws://127.0.0.1:" + std::to_string(to_port ? to_port : port) + target).url;
    opts.headers = {{"Accept", "application/nostr+json"}};
    Waiter w;
    std::optional<HttpGetResult> result;
    auto handle = HttpGet::start(io.io(), url, {loopback()}, nullptr, opts,
                                 [&](HttpGetResult r) { w.update([&] { result = std::move(r); }); });
    EXPECT_TRUE(w.wait([&] { return result.has_value(); }));
    return result.value_or(HttpGetResult{HttpGetError::protocol, "no answer", 0, {}});
  }

  IoThread io;
  std::unique_ptr<HttpServer> server;
  std::uint16_t port = 0;
  Waiter waiting;
  std::vector<Responder> kept;
};

TEST_F(HttpGetFixture, GetsTheDocumentWithAcceptAndHost) {
  const auto r = get("/doc");
  EXPECT_EQ(r.error, HttpGetError::none) << r.detail;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "accept=application/nostr+json|host=127.0.0.1:" + std::to_string(port));
}

TEST_F(HttpGetFixture, StatusIsReportedNotAnError) {
  const auto r = get("/missing");
  EXPECT_EQ(r.error, HttpGetError::none);
  EXPECT_EQ(r.status, 404);
}

TEST_F(HttpGetFixture, BodyOverTheCapIsTooLarge) {
  HttpGetOptions opts;
  opts.max_body = 64 * 1024;
  const auto r = get("/big", opts);
  EXPECT_EQ(r.error, HttpGetError::too_large) << "status " << r.status << ", " << r.body.size() << " bytes";
  opts.max_body = 200 * 1024;
  EXPECT_EQ(get("/big", opts).body.size(), 100u * 1024);
}

TEST_F(HttpGetFixture, SilentServerTimesOut) {
  HttpGetOptions opts;
  opts.timeout = std::chrono::milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(get("/never", opts).error, HttpGetError::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(HttpGetFixture, NothingListeningIsAConnectFailure) {
  std::uint16_t closed = 0;
  {
    HttpServer other(io.io(), HttpServerOptions{}, HttpServerHandlers{});
    closed = other.listen("127.0.0.1", 0);
  }
  EXPECT_EQ(get("/doc", {}, closed).error, HttpGetError::connect_failed);
}

TEST_F(HttpGetFixture, CancelledGetNeverCallsItsHandler) {
  auto url = *parse_relay_url("ws://127.0.0.1:" + std::to_string(port) + "/never").url;
  Waiter w;
  bool called = false;
  auto handle = HttpGet::start(io.io(), url, {loopback()}, nullptr, {}, [&](HttpGetResult) { w.update([&] { called = true; }); });
  ASSERT_TRUE(waiting.wait([&] { return !kept.empty(); }));
  handle->cancel();
  EXPECT_FALSE(w.wait([&] { return called; }, std::chrono::seconds(1)));
}

}  // namespace
}  // namespace pb::net::test
