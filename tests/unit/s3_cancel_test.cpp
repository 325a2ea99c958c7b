// Cancelling S3 requests (ClientOptions::stop, used by the daemon's bounded final push): a stop ends an
// operation at once with S3Error code "Cancelled", instead of waiting out the server or retrying. The
// "server" is a real loopback socket that accepts connections and never answers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <stop_token>
#include <thread>

#include <gtest/gtest.h>

#include "base/posix_file.hpp"
#include "s3/s3_client.hpp"

namespace pb::s3 {
namespace {

// Listens on 127.0.0.1:<any port> and never writes a byte.
class SilentServer {
 public:
  SilentServer() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_.get() < 0 || ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_.get(), 8) != 0 ||
        ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot listen on loopback");
    port_ = ntohs(a.sin_port);
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Blocks until a client connected; the connection stays open (and silent) while the result lives.
  UniqueFd accept_one() const { return UniqueFd(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC)); }

 private:
  UniqueFd fd_;
  int port_ = 0;
};

S3Client client_for(const SilentServer& server, std::stop_token stop) {
  AwsConfig cfg;
  cfg.credentials = {"AKTEST", "secret", ""};
  cfg.endpoint = server.endpoint();
  cfg.path_style = true;
  ClientOptions opt;
  opt.stop = std::move(stop);
  return S3Client(cfg, "bucket", opt);
}

std::string error_code_of(S3Client& client) {
  try {
    client.list_objects("");
  } catch (const S3Error& e) {
    return e.code();
  }
  return "no error";
}

TEST(S3Cancel, AStopRequestedBeforehandEndsTheRequestAsCancelled) {
  const SilentServer server;
  std::stop_source stop;
  stop.request_stop();
  S3Client client = client_for(server, stop.get_token());
  EXPECT_EQ(error_code_of(client), "Cancelled");
}

TEST(S3Cancel, AStopEndsARequestInFlight) {
  const SilentServer server;
  std::stop_source stop;
  std::string code;
  std::jthread request([&] {
    S3Client client = client_for(server, stop.get_token());
    code = error_code_of(client);  // the server never answers: without the stop, 60 s of stall x 6 attempts
  });
  const UniqueFd conn = server.accept_one();  // the request is in flight now
  ASSERT_GE(conn.get(), 0);
  stop.request_stop();
  request.join();
  EXPECT_EQ(code, "Cancelled");
}

}  // namespace
}  // namespace pb::s3
