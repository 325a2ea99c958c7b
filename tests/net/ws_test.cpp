// WsClient <-> HttpServer WebSocket sessions over ws:// on loopback.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include <boost/asio/ip/tcp.hpp>

#include "ws_fixtures.hpp"

namespace pb::net::test {
namespace {

std::string incompressible(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>('a' + rng() % 26);
  return s;
}

TEST(WsClientServer, EchoInOrderAndGracefulClose) {
  IoThread io;
  EchoServer server(io.io());
  ClientProbe probe;
  auto client = make_client(io.io(), server.url(), probe);
  ASSERT_TRUE(probe.wait_open()) << probe.reason();
  EXPECT_EQ(client->state(), WsState::open);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(client->send("msg " + std::to_string(i)));
  ASSERT_TRUE(probe.wait_messages(50));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(probe.messages[i], "msg " + std::to_string(i));
  ASSERT_TRUE(server.wait_sessions(1));
  EXPECT_EQ(server.session(0)->remote_address(), "127.0.0.1");
  EXPECT_EQ(server.session(0)->request().path, "/ws");
  client->close();
  ASSERT_TRUE(probe.wait_closed());
  EXPECT_EQ(probe.reason(), reason::closed_locally);
  EXPECT_EQ(client->state(), WsState::closed);
  ASSERT_TRUE(server.wait_close_reasons(1));
  EXPECT_EQ(server.close_reasons[0], reason::closed_by_peer);
  EXPECT_FALSE(client->send("late"));
  EXPECT_EQ(client->stats().messages_in, 50u);
  EXPECT_EQ(client->stats().messages_out, 50u);
  EXPECT_EQ(probe.close_calls, 1);
}

TEST(WsClientServer, SendBeforeOpenIsQueued) {
  IoThread io;
  EchoServer server(io.io());
  ClientProbe probe;
  auto client = make_client(io.io(), server.url(), probe);
  ASSERT_TRUE(client->send("early"));  // still connecting
  ASSERT_TRUE(probe.wait_messages(1)) << probe.reason();
  EXPECT_EQ(probe.messages[0], "early");
}

TEST(WsClientServer, ConnectFailureIsReported) {
  IoThread io;
  // A bound but not listening socket: connecting to it is refused, and nobody else can take the port.
  boost::asio::ip::tcp::acceptor bound(io.io());
  bound.open(boost::asio::ip::tcp::v4());
  bound.bind({loopback(), 0});
  const std::uint16_t dead_port = bound.local_endpoint().port();
  ClientProbe probe;
  auto client = make_client(io.io(), "ws://127.0.0.1:" + std::to_string(dead_port) + "/", probe);
  ASSERT_TRUE(probe.wait_closed());
  EXPECT_EQ(probe.reason(), reason::connect_failed);
  EXPECT_FALSE(probe.opened);
}

TEST(WsClientServer, PermessageDeflateNegotiatedWhenBothEnable) {
  IoThread io;
  EchoServer server(io.io());
  ClientProbe probe;
  auto client = make_client(io.io(), server.url(), probe);
  ASSERT_TRUE(probe.wait_open());
  EXPECT_TRUE(client->stats().deflate_negotiated);
  ASSERT_TRUE(server.wait_sessions(1));
  EXPECT_TRUE(server.session(0)->deflate_negotiated());
  const std::string big(200'000, 'x');  // compresses well; must round-trip intact
  ASSERT_TRUE(client->send(big));
  ASSERT_TRUE(probe.wait_messages(1));
  EXPECT_EQ(probe.messages[0], big);
}

TEST(WsClientServer, PermessageDeflateOffWhenClientDoesNotOffer) {
  IoThread io;
  EchoServer server(io.io());
  ClientProbe probe;
  WsClientOptions o;
  o.permessage_deflate = false;
  auto client = make_client(io.io(), server.url(), probe, o);
  ASSERT_TRUE(probe.wait_open());
  EXPECT_FALSE(client->stats().deflate_negotiated);
  ASSERT_TRUE(server.wait_sessions(1));
  EXPECT_FALSE(server.session(0)->deflate_negotiated());
}

TEST(WsClientServer, PermessageDeflateOffWhenServerDeclines) {
  IoThread io;
  HttpServerOptions so;
  so.ws_permessage_deflate = false;
  EchoServer server(io.io(), so);
  ClientProbe probe;
  auto client = make_client(io.io(), server.url(), probe);
  ASSERT_TRUE(probe.wait_open());
  EXPECT_FALSE(client->stats().deflate_negotiated);
  ASSERT_TRUE(client->send("still works"));
  ASSERT_TRUE(probe.wait_messages(1));
}

// A message over the cap is skipped, reported with its size, and the messages after it still arrive on
// the same connection (with and without permessage-deflate, which inflates into the same chunks).
TEST(WsClientServer, ClientSkipsAMessageOverTheCap) {
  for (const bool deflate : {true, false}) {
    IoThread io;
    EchoServer server(io.io());
    ClientProbe probe;
    WsClientOptions o;
    o.read_message_max = 1000;
    o.permessage_deflate = deflate;
    auto client = make_client(io.io(), server.url(), probe, o);
    ASSERT_TRUE(probe.wait_open());
    ASSERT_TRUE(client->send(std::string(1000, 'a')));   // exactly the cap: delivered
    ASSERT_TRUE(client->send(std::string(10'000, 'b')));  // the echo is too big for the client: skipped
    ASSERT_TRUE(client->send("c"));
    ASSERT_TRUE(probe.wait_messages(2));
    std::lock_guard lock(probe.w.mutex());
    EXPECT_EQ(probe.messages, (std::vector<std::string>{std::string(1000, 'a'), "c"}));
    EXPECT_EQ(probe.oversize, (std::vector<std::size_t>{10'000}));
    EXPECT_FALSE(probe.close_reason.has_value());
  }
}

// Skipping is bounded too: a message of more than 16 times the cap closes the connection.
TEST(WsClientServer, ClientClosesOnAMessageFarOverTheCap) {
  IoThread io;
  EchoServer server(io.io());
  ClientProbe probe;
  WsClientOptions o;
  o.read_message_max = 1000;
  auto client = make_client(io.io(), server.url(), probe, o);
  ASSERT_TRUE(probe.wait_open());
  ASSERT_TRUE(client->send(std::string(999, 'a')));
  ASSERT_TRUE(probe.wait_messages(1));
  ASSERT_TRUE(client->send(std::string(200'000, 'b')));
  ASSERT_TRUE(probe.wait_closed());
  EXPECT_EQ(probe.reason(), reason::message_too_big);
  EXPECT_EQ(probe.messages.size(), 1u);
  EXPECT_TRUE(probe.oversize.empty());
}

TEST(WsClientServer, ServerClosesOnMessageTooBig) {
  IoThread io;
  HttpServerOptions so;
  so.ws_read_message_max = 1000;
  EchoServer server(io.io(), so);
  ClientProbe probe;
  auto client = make_client(io.io(), server.url(), probe);
  ASSERT_TRUE(probe.wait_open());
  ASSERT_TRUE(client->send(std::string(5000, 'b')));
  ASSERT_TRUE(server.wait_close_reasons(1));
  EXPECT_EQ(server.close_reasons[0], reason::message_too_big);
  ASSERT_TRUE(probe.wait_closed());
  EXPECT_EQ(probe.reason(), reason::closed_by_peer);
  EXPECT_EQ(client->stats().peer_close_code, 1009);
}

TEST(WsClientServer, PingTimeoutWhenPeerGoesSilent) {
  IoThread io;
  TestWsServer silent(TestWsServer::Mode::silent, nullptr);
  ClientProbe probe;
  WsClientOptions o;
  o.ping_interval = std::chrono::milliseconds(200);
  o.pong_timeout = std::chrono::milliseconds(200);
  auto client = make_client(io.io(), "ws://127.0.0.1:" + std::to_string(silent.port()) + "/", probe, o);
  ASSERT_TRUE(probe.wait_open());
  ASSERT_TRUE(probe.wait_closed());
  EXPECT_EQ(probe.reason(), reason::ping_timeout);
  EXPECT_GE(client->stats().pings_sent, 1u);
  EXPECT_EQ(client->stats().pongs_received, 0u);
}

TEST(WsClientServer, PingsAnsweredKeepConnectionOpen) {
  IoThread io;
  EchoServer server(io.io());
  ClientProbe probe;
  WsClientOptions o;
  o.ping_interval = std::chrono::milliseconds(20);
  o.pong_timeout = std::chrono::milliseconds(5000);
  auto client = make_client(io.io(), server.url(), probe, o);
  ASSERT_TRUE(probe.wait_open());
  ASSERT_TRUE(eventually([&] { return client->stats().pongs_received >= 3; }));
  EXPECT_EQ(client->state(), WsState::open);
  EXPECT_FALSE(probe.close_reason.has_value());
}

TEST(WsClientServer, BackPressurePausesReadingAndResumeDeliversInOrder) {
  IoThread io;
  HttpServerOptions so;
  so.ws_max_pending_send_bytes = 256u << 20;
  so.ws_permessage_deflate = false;
  EchoServer server(io.io(), so);
  constexpr int kCount = 256;
  constexpr std::size_t kSize = 128 * 1024;
  server.on_text = [&](WsServerSession& s, const std::string&) {
    for (int i = 0; i < kCount; ++i) {
      char prefix[16];
      std::snprintf(prefix, sizeof prefix, "%06d:", i);
      s.send(prefix + incompressible(kSize, static_cast<std::uint32_t>(i)));
    }
  };
  ClientProbe probe;
  probe.pause_after = 1;
  WsClientOptions o;
  o.read_message_max = 1 << 20;
  auto client = make_client(io.io(), server.url(), probe, o);
  ASSERT_TRUE(probe.wait_open());
  ASSERT_TRUE(client->send("go"));
  ASSERT_TRUE(probe.wait_messages(1));
  ASSERT_TRUE(server.wait_sessions(1));
  // All kCount messages were queued in one go before the first was written; with the client paused only
  // the socket buffers (a few MB) can drain, so most of the 32 MB must still be pending on the server.
  const std::size_t total = kCount * (kSize + 7);
  EXPECT_GT(server.session(0)->pending_send_bytes(), total / 4);
  EXPECT_EQ(probe.count(), 1u);
  EXPECT_EQ(client->stats().messages_in, 1u);
  {
    std::lock_guard lock(probe.w.mutex());
    probe.pause_after = SIZE_MAX;
  }
  client->resume_reading();
  ASSERT_TRUE(probe.wait_messages(kCount)) << probe.reason();
  for (int i = 0; i < kCount; ++i) {
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "%06d:", i);
    ASSERT_EQ(probe.messages[i].substr(0, 7), prefix);
    ASSERT_EQ(probe.messages[i].size(), kSize + 7);
  }
  EXPECT_TRUE(eventually([&] { return server.session(0)->pending_send_bytes() == 0; }));
}

// The tests below run with both ways a server session writes: without permessage-deflate its own frames
// appended whole to the stream below, with it Beast's compressed frames gathered there.
class WsServerFraming : public ::testing::TestWithParam<bool> {
 protected:
  static HttpServerOptions options() {
    HttpServerOptions so;
    so.ws_permessage_deflate = GetParam();
    return so;
  }
};
INSTANTIATE_TEST_SUITE_P(Deflate, WsServerFraming, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "deflate" : "plain"; });

// A server (send cap 1 MiB) and a client that reads one message and then never again.
struct StalledPeer {
  explicit StalledPeer(bool deflate = false) : server(io.io(), options(deflate)) {}
  IoThread io{2};
  EchoServer server;
  ClientProbe slow;
  std::unique_ptr<WsClient> client;
  std::shared_ptr<WsServerSession> session;

  static HttpServerOptions options(bool deflate) {
    HttpServerOptions so;
    so.ws_max_pending_send_bytes = 1 << 20;
    so.ws_permessage_deflate = deflate;
    return so;
  }
  void start() {
    slow.pause_after = 1;
    WsClientOptions o;
    o.read_message_max = 1 << 20;
    client = make_client(io.io(), server.url(), slow, o);
    ASSERT_TRUE(slow.wait_open());
    ASSERT_TRUE(client->send("hello"));
    ASSERT_TRUE(slow.wait_messages(1));  // now paused: it never reads again
    ASSERT_TRUE(server.wait_sessions(1));
    session = server.session(0);
  }
  void expect_dropped() {
    ASSERT_TRUE(server.wait_close_reasons(1));
    EXPECT_EQ(server.close_reasons[0], reason::send_queue_full);
    EXPECT_FALSE(session->is_open());
  }
};

TEST(WsClientServer, SlowReaderIsDisconnectedOthersStillServed) {
  StalledPeer peer;
  ASSERT_NO_FATAL_FAILURE(peer.start());
  ClientProbe fast;
  auto fast_client = make_client(peer.io.io(), peer.server.url(), fast);
  ASSERT_TRUE(fast.wait_open());

  const std::string chunk = incompressible(64 * 1024, 7);
  bool refused = false;
  for (int i = 0; i < 4000 && !refused; ++i) refused = !peer.session->send(chunk);  // at most 256 MB
  EXPECT_TRUE(refused);
  ASSERT_NO_FATAL_FAILURE(peer.expect_dropped());

  ASSERT_TRUE(fast_client->send("still there?"));
  ASSERT_TRUE(fast.wait_messages(1)) << fast.reason();
  EXPECT_EQ(fast.messages[0], "still there?");
  {
    std::lock_guard lock(peer.slow.w.mutex());
    peer.slow.pause_after = SIZE_MAX;
  }
  peer.client->resume_reading();  // it now sees the connection gone
  ASSERT_TRUE(peer.slow.wait_closed());
}

// The same peer, but each burst (two messages: gathered, then sent together) is given time to leave
// before the next is queued: the session's queue then stays short, and only the stream below holding
// writes back once ~256 KiB wait for the socket (CoalescingStream's high water) lets the cap see that the
// peer does not read. A stream that took every gathered frame into its buffer would let all 8000 chunks
// through. The pause is a bound, not a timing assumption: with the peer not reading, the pending bytes
// cannot drain however long the test waits.
TEST_P(WsServerFraming, SlowReaderIsDisconnectedWhenBurstsComeOneAtATime) {
  StalledPeer peer(GetParam());
  ASSERT_NO_FATAL_FAILURE(peer.start());
  const std::string chunk = incompressible(64 * 1024, 9);
  bool refused = false;
  for (int i = 0; i < 4000 && !refused; ++i) {
    refused = !peer.session->send_all({chunk, chunk});
    for (int spin = 0; spin < 100 && peer.session->pending_send_bytes() > 0; ++spin)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(refused);
  ASSERT_NO_FATAL_FAILURE(peer.expect_dropped());
}

// send_all: a burst arrives whole and in order, and single messages after it still do (the burst's frames
// are held back and sent together; frames left held would never arrive). Sizes cross both extended-length
// forms of the frame header (126: 16-bit, 127: 64-bit).
TEST_P(WsServerFraming, SendAllDeliversABurstInOrderThenSingleMessages) {
  IoThread io;
  EchoServer server(io.io(), options());
  const auto nth = [](int i) {
    const std::size_t size = i % 50 == 7 ? 70000 + i : i % 10 == 3 ? 200 + i * 50 : 1 + i % 125;
    return std::string("b").append(std::to_string(i)).append(size, 'x');
  };
  server.on_text = [&](WsServerSession& s, const std::string& m) {
    if (m != "burst") return void(s.send(std::string("single ").append(m)));
    std::vector<std::string> burst;
    for (int i = 0; i < 300; ++i) burst.push_back(nth(i));
    ASSERT_TRUE(s.send_all(std::move(burst)));
  };
  ClientProbe probe;
  auto client = make_client(io.io(), server.url(), probe);
  ASSERT_TRUE(probe.wait_open()) << probe.reason();
  ASSERT_TRUE(client->send("burst"));
  ASSERT_TRUE(probe.wait_messages(300));
  for (int i = 0; i < 300; ++i) EXPECT_EQ(probe.messages[i], nth(i));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client->send(std::to_string(i)));
    ASSERT_TRUE(probe.wait_messages(301 + i));
    EXPECT_EQ(probe.messages[300 + i], std::string("single ").append(std::to_string(i)));
  }
  ASSERT_TRUE(server.wait_sessions(1));
  EXPECT_EQ(server.session(0)->deflate_negotiated(), GetParam());
}

// Pongs (Beast's frames) go out between a session's own frames while bursts stream. A close right after a
// burst ends the stream cleanly: the client gets a prefix of that burst, in order (what was still queued
// is dropped, as close() documents), then the close frame.
TEST_P(WsServerFraming, PongsInterleaveWithBurstsAndCloseEndsABurstCleanly) {
  IoThread io(2);
  EchoServer server(io.io(), options());
  const auto nth = [](const std::string& m, int i) { return m + ":" + std::to_string(i) + std::string(i % 300, 'y'); };
  server.on_text = [&](WsServerSession& s, const std::string& m) {
    std::vector<std::string> burst;
    for (int i = 0; i < 2000; ++i) burst.push_back(nth(m, i));
    ASSERT_TRUE(s.send_all(std::move(burst)));
    if (m == "last") s.close("done");
  };
  ClientProbe probe;
  WsClientOptions o;
  o.ping_interval = std::chrono::milliseconds(2);
  o.pong_timeout = std::chrono::milliseconds(5000);
  auto client = make_client(io.io(), server.url(), probe, o);
  ASSERT_TRUE(probe.wait_open());
  for (int round = 0; round < 5; ++round) {
    ASSERT_TRUE(client->send("r" + std::to_string(round)));
    ASSERT_TRUE(probe.wait_messages(2000 * (round + 1))) << probe.reason();
  }
  ASSERT_TRUE(eventually([&] { return client->stats().pongs_received >= 3; }));
  ASSERT_TRUE(client->send("last"));
  ASSERT_TRUE(probe.wait_closed());
  EXPECT_EQ(probe.reason(), reason::closed_by_peer);
  std::lock_guard lock(probe.w.mutex());
  ASSERT_GE(probe.messages.size(), 10000u);
  ASSERT_LE(probe.messages.size(), 12000u);
  for (std::size_t k = 0; k < probe.messages.size(); ++k) {
    const std::size_t round = k / 2000;
    ASSERT_EQ(probe.messages[k], nth(round < 5 ? "r" + std::to_string(round) : "last", static_cast<int>(k % 2000)));
  }
}

// The cap applies to a burst's total: over it nothing is queued and the session is closed.
TEST(WsClientServer, SendAllOverTheCapClosesTheSession) {
  IoThread io;
  HttpServerOptions so;
  so.ws_max_pending_send_bytes = 10'000;
  EchoServer server(io.io(), so);
  ClientProbe probe;
  auto client = make_client(io.io(), server.url(), probe);
  ASSERT_TRUE(probe.wait_open());
  ASSERT_TRUE(server.wait_sessions(1));
  auto session = server.session(0);
  EXPECT_FALSE(session->send_all(std::vector<std::string>(11, std::string(1000, 'x'))));
  ASSERT_TRUE(server.wait_close_reasons(1));
  EXPECT_EQ(server.close_reasons[0], reason::send_queue_full);
  ASSERT_TRUE(probe.wait_closed());
  EXPECT_EQ(probe.messages.size(), 0u);
}

TEST(WsClientServer, StopClosesOpenSessionsAndIoRunReturns) {
  auto io = std::make_unique<IoThread>(2);
  auto server = std::make_unique<EchoServer>(io->io());
  ClientProbe p1, p2;
  auto c1 = make_client(io->io(), server->url(), p1);
  auto c2 = make_client(io->io(), server->url(), p2);
  ASSERT_TRUE(p1.wait_open());
  ASSERT_TRUE(p2.wait_open());
  ASSERT_TRUE(server->wait_sessions(2));
  server->server->stop();
  ASSERT_TRUE(p1.wait_closed());
  ASSERT_TRUE(p2.wait_closed());
  EXPECT_EQ(p1.reason(), reason::closed_by_peer);
  EXPECT_EQ(c1->stats().peer_close_code, 1001);  // going away
  ASSERT_TRUE(server->wait_close_reasons(2));
  EXPECT_EQ(server->close_reasons[0], reason::server_stopping);
  EXPECT_EQ(server->close_reasons[1], reason::server_stopping);
  EXPECT_EQ(server->server->stats().active, 0u);
  // Nothing is left running: io_context::run() returns by itself.
  EXPECT_TRUE(io->drain());
  c1.reset();
  c2.reset();
  server.reset();
}

TEST(WsClientServer, DestroyingClientsMidFlightIsSafeAndSilent) {
  IoThread io(2);
  EchoServer server(io.io());
  std::vector<std::unique_ptr<ClientProbe>> probes;
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 20; ++i) {
    probes.push_back(std::make_unique<ClientProbe>());
    clients.push_back(make_client(io.io(), server.url(), *probes.back()));
    clients.back()->send(std::string(10'000, 'z'));
  }
  // Half are destroyed at once (connecting), the rest once open with echoes in flight.
  for (int i = 0; i < 20; i += 2) clients[i].reset();
  for (int i = 1; i < 20; i += 2) {
    ASSERT_TRUE(probes[i]->wait_open());
    clients[i]->send(std::string(50'000, 'y'));
    clients[i].reset();
  }
  // The server sees every opened session end; the destroyed clients never call back.
  ASSERT_TRUE(eventually([&] { return server.server->stats().active == 0; }));
  for (int i = 0; i < 20; ++i) {
    std::lock_guard lock(probes[i]->w.mutex());
    EXPECT_EQ(probes[i]->close_calls, 0) << i;
  }
}

TEST(WsClientServer, SendQueueCapOnClient) {
  IoThread io;
  EchoServer server(io.io());
  ClientProbe probe;
  WsClientOptions o;
  o.max_pending_send_bytes = 1000;
  auto client = make_client(io.io(), server.url(), probe, o, nullptr, /*start=*/false);
  // Not started: nothing can be written yet, so the queue fills up.
  EXPECT_TRUE(client->send(std::string(600, 'a')));
  EXPECT_FALSE(client->send(std::string(600, 'b')));
  EXPECT_TRUE(client->send(std::string(400, 'c')));
  EXPECT_EQ(client->pending_send_bytes(), 1000u);
  client->start();
  ASSERT_TRUE(probe.wait_messages(2));
  EXPECT_EQ(probe.messages[0][0], 'a');
  EXPECT_EQ(probe.messages[1][0], 'c');
}

}  // namespace
}  // namespace pb::net::test
