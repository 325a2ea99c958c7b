// Helpers for the pb_net tests: an io thread, a waiter, self-signed certificates, small Beast-based
// peers (a TLS/plain WebSocket echo or silent server, a blocking HTTP client). Beast stays in the .cpp.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

namespace pb::net::test {

inline constexpr std::chrono::seconds kWait{10};

// An io_context run by `threads` threads until destruction.
class IoThread {
 public:
  explicit IoThread(int threads = 1);
  ~IoThread();
  boost::asio::io_context& io() { return io_; }
  // Releases the work guard and joins the threads (io.run() returns when nothing is left to do).
  // Returns true if the threads finished within `limit`.
  bool drain(std::chrono::seconds limit = kWait);

 private:
  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::vector<std::thread> threads_;
  std::mutex m_;
  std::condition_variable cv_;
  int running_ = 0;
};

// Shared state with a condition variable: notify after every change, wait for a predicate.
class Waiter {
 public:
  template <class F>
  void update(F&& f) {
    {
      std::lock_guard lock(m_);
      f();
    }
    cv_.notify_all();
  }
  template <class P>
  bool wait(P&& pred, std::chrono::seconds limit = kWait) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, limit, pred);
  }
  std::mutex& mutex() { return m_; }

 private:
  std::mutex m_;
  std::condition_variable cv_;
};

// A self-signed certificate (P-256) with SAN DNS:<dns>, IP:127.0.0.1, written as PEM files.
struct TestCert {
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
};
TestCert make_self_signed_cert(const std::filesystem::path& dir, const std::string& name, const std::string& dns);

// A temporary directory removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A WebSocket server on 127.0.0.1 (its own thread, blocking Beast), one connection at a time.
// echo: echoes every message; silent: completes the handshake, then never reads (so never answers pings).
class TestWsServer {
 public:
  enum class Mode { echo, silent };
  // cert empty: plain ws; otherwise wss with that certificate.
  TestWsServer(Mode mode, const TestCert* cert);
  ~TestWsServer();
  std::uint16_t port() const;
  int handshakes() const;  // completed WebSocket handshakes

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

struct HttpResult {
  bool ok = false;  // a response was read
  std::string error;
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// A blocking HTTP/1.1 client on one keep-alive connection to 127.0.0.1:port.
class HttpTestClient {
 public:
  explicit HttpTestClient(std::uint16_t port);
  ~HttpTestClient();
  HttpResult request(const std::string& method, const std::string& target, const std::string& body = {},
                     const std::map<std::string, std::string>& headers = {});
  // True if the server closed the connection (a read returns EOF/reset).
  bool closed_by_server();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

inline boost::asio::ip::address loopback() { return boost::asio::ip::make_address("127.0.0.1"); }

}  // namespace pb::net::test
