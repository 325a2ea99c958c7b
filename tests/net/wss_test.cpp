// wss:// with self-signed certificates generated in the test; trust via a CA file.
#include <gtest/gtest.h>

#include "net/tls_context.hpp"
#include "ws_fixtures.hpp"

namespace pb::net::test {
namespace {

class Wss : public ::testing::Test {
 protected:
  TempDir dir;
  TestCert good = make_self_signed_cert(dir.path(), "good", "localhost");
  TestCert other = make_self_signed_cert(dir.path(), "other", "localhost");
  std::shared_ptr<boost::asio::ssl::context> trust_good = make_client_tls_context({good.cert_file.string(), true});
};

TEST_F(Wss, EchoWithTrustedCertAndMatchingName) {
  IoThread io;
  TestWsServer server(TestWsServer::Mode::echo, &good);
  ClientProbe probe;
  auto client = make_client(io.io(), "wss://localhost:" + std::to_string(server.port()) + "/", probe, {}, trust_good);
  ASSERT_TRUE(probe.wait_open()) << probe.reason();
  EXPECT_TRUE(client->stats().deflate_negotiated);
  ASSERT_TRUE(client->send("over tls"));
  ASSERT_TRUE(probe.wait_messages(1));
  EXPECT_EQ(probe.messages[0], "over tls");
  client->close();
  ASSERT_TRUE(probe.wait_closed());
  EXPECT_EQ(probe.reason(), reason::closed_locally);
}

TEST_F(Wss, IpLiteralMatchesIpSan) {
  IoThread io;
  TestWsServer server(TestWsServer::Mode::echo, &good);
  ClientProbe probe;
  auto client = make_client(io.io(), "wss://127.0.0.1:" + std::to_string(server.port()) + "/", probe, {}, trust_good);
  ASSERT_TRUE(probe.wait_open()) << probe.reason();
}

TEST_F(Wss, WrongHostNameFailsVerification) {
  IoThread io;
  TestWsServer server(TestWsServer::Mode::echo, &good);
  ClientProbe probe;
  // Connects to 127.0.0.1 (the given endpoint) but expects the certificate to name wrong.example.
  auto client =
      make_client(io.io(), "wss://wrong.example:" + std::to_string(server.port()) + "/", probe, {}, trust_good);
  ASSERT_TRUE(probe.wait_closed());
  EXPECT_EQ(probe.reason(), reason::tls_failed);
  EXPECT_FALSE(probe.opened);
  EXPECT_EQ(server.handshakes(), 0);
}

TEST_F(Wss, UntrustedCertificateFails) {
  IoThread io;
  TestWsServer server(TestWsServer::Mode::echo, &other);  // same name, but not the trusted certificate
  ClientProbe probe;
  auto client = make_client(io.io(), "wss://localhost:" + std::to_string(server.port()) + "/", probe, {}, trust_good);
  ASSERT_TRUE(probe.wait_closed());
  EXPECT_EQ(probe.reason(), reason::tls_failed);
  EXPECT_EQ(server.handshakes(), 0);
}

TEST_F(Wss, SystemCasDoNotTrustSelfSigned) {
  IoThread io;
  TestWsServer server(TestWsServer::Mode::echo, &good);
  ClientProbe probe;
  auto system = make_client_tls_context({});
  auto client = make_client(io.io(), "wss://localhost:" + std::to_string(server.port()) + "/", probe, {}, system);
  ASSERT_TRUE(probe.wait_closed());
  EXPECT_EQ(probe.reason(), reason::tls_failed);
}

TEST_F(Wss, BadCaFileThrows) {
  EXPECT_THROW(make_client_tls_context({(dir.path() / "missing.pem").string(), true}), std::runtime_error);
}

TEST_F(Wss, PingTimeoutOverTls) {
  IoThread io;
  TestWsServer silent(TestWsServer::Mode::silent, &good);
  ClientProbe probe;
  WsClientOptions o;
  o.ping_interval = std::chrono::milliseconds(200);
  o.pong_timeout = std::chrono::milliseconds(200);
  auto client = make_client(io.io(), "wss://localhost:" + std::to_string(silent.port()) + "/", probe, o, trust_good);
  ASSERT_TRUE(probe.wait_open()) << probe.reason();
  ASSERT_TRUE(probe.wait_closed());
  EXPECT_EQ(probe.reason(), reason::ping_timeout);
}

}  // namespace
}  // namespace pb::net::test
