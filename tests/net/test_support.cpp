#include "test_support.hpp"

#include <atomic>
#include <fstream>
#include <random>
#include <stdexcept>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace pb::net::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// ---- IoThread ----------------------------------------------------------------------------------

IoThread::IoThread(int threads)
    : guard_(std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(io_.get_executor())) {
  running_ = threads;
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      io_.run();
      {
        std::lock_guard lock(m_);
        --running_;
      }
      cv_.notify_all();
    });
  }
}

bool IoThread::drain(std::chrono::seconds limit) {
  guard_.reset();
  bool finished;
  {
    std::unique_lock lock(m_);
    finished = cv_.wait_for(lock, limit, [this] { return running_ == 0; });
  }
  if (!finished) io_.stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  return finished;
}

IoThread::~IoThread() {
  guard_.reset();
  io_.stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

// ---- certificates ------------------------------------------------------------------------------

namespace {
template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioFile = std::unique_ptr<FILE, int (*)(FILE*)>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("openssl: ") + what);
}
}  // namespace

TestCert make_self_signed_cert(const std::filesystem::path& dir, const std::string& name, const std::string& dns) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EVP_EC_gen");
  X509Ptr cert(X509_new());
  check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);
  static std::atomic<long> serial{1};
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600L * 24 * 365 * 10);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(dns.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), subject);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  const std::string san = "DNS:" + dns + ",IP:127.0.0.1";
  const std::pair<int, const char*> exts[] = {{NID_subject_alt_name, san.c_str()},
                                              {NID_basic_constraints, "critical,CA:TRUE"}};
  for (const auto& [nid, value] : exts) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    check(ext != nullptr, "X509V3_EXT_conf_nid");
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "X509_sign");

  TestCert out{dir / (name + ".crt"), dir / (name + ".key")};
  BioFile cf(std::fopen(out.cert_file.c_str(), "wb"), &std::fclose);
  BioFile kf(std::fopen(out.key_file.c_str(), "wb"), &std::fclose);
  check(cf && kf, "fopen");
  check(PEM_write_X509(cf.get(), cert.get()) == 1, "PEM_write_X509");
  check(PEM_write_PrivateKey(kf.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1, "PEM_write_PrivateKey");
  return out;
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() / ("pb_net_test_" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

// ---- TestWsServer ------------------------------------------------------------------------------

struct TestWsServer::Impl {
  Mode mode;
  std::unique_ptr<asio::ssl::context> tls;
  asio::io_context io;  // only for the blocking sockets
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::atomic<bool> stop{false};
  std::atomic<int> handshakes{0};
  std::atomic<int> active_fd{-1};
  std::uint16_t port = 0;
  std::mutex m;
  std::condition_variable cv;

  template <class WsStream>
  void serve(WsStream& ws) {
    beast::error_code ec;
    websocket::permessage_deflate pmd;
    pmd.server_enable = true;
    ws.set_option(pmd);
    ws.read_message_max(64 << 20);
    ws.accept(ec);
    if (ec) return;
    ++handshakes;
    if (mode == Mode::silent) {
      std::unique_lock lock(m);
      cv.wait(lock, [this] { return stop.load(); });
      return;
    }
    beast::flat_buffer buf;
    for (;;) {
      ws.read(buf, ec);
      if (ec) return;
      ws.text(ws.got_text());
      ws.write(buf.data(), ec);
      if (ec) return;
      buf.consume(buf.size());
    }
  }

  void run() {
    while (!stop.load()) {
      beast::error_code ec;
      tcp::socket sock(io);
      acceptor.accept(sock, ec);
      if (ec || stop.load()) return;
      active_fd.store(sock.native_handle());
      if (tls) {
        websocket::stream<asio::ssl::stream<tcp::socket>> ws(std::move(sock), *tls);
        ws.next_layer().handshake(asio::ssl::stream_base::server, ec);
        if (!ec) serve(ws);
      } else {
        websocket::stream<tcp::socket> ws(std::move(sock));
        serve(ws);
      }
      active_fd.store(-1);
    }
  }
};

TestWsServer::TestWsServer(Mode mode, const TestCert* cert) : impl_(std::make_unique<Impl>()) {
  impl_->mode = mode;
  if (cert) {
    impl_->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(cert->cert_file.string());
    impl_->tls->use_private_key_file(cert->key_file.string(), asio::ssl::context::pem);
  }
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

TestWsServer::~TestWsServer() {
  {
    std::lock_guard lock(impl_->m);
    impl_->stop.store(true);
  }
  impl_->cv.notify_all();
  // Wake a blocking read (shutdown(2) on the fd) and a blocking accept (connect to ourselves).
  const int fd = impl_->active_fd.load();
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  {
    asio::io_context io;
    tcp::socket s(io);
    beast::error_code ec;
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()), ec);
  }
  impl_->thread.join();
}

std::uint16_t TestWsServer::port() const { return impl_->port; }
int TestWsServer::handshakes() const { return impl_->handshakes.load(); }

// ---- HttpTestClient ----------------------------------------------------------------------------

struct HttpTestClient::Impl {
  asio::io_context io;
  tcp::socket sock{io};
  beast::flat_buffer buf;
};

HttpTestClient::HttpTestClient(std::uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
}

HttpTestClient::~HttpTestClient() = default;

HttpResult HttpTestClient::request(const std::string& method, const std::string& target, const std::string& body,
                                   const std::map<std::string, std::string>& headers) {
  HttpResult out;
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty() || method == "POST") {
    req.body() = body;
    req.prepare_payload();
  }
  beast::error_code ec;
  http::write(impl_->sock, req, ec);
  // A write error is not final: the server may have answered (e.g. 413) before closing.
  http::response_parser<http::string_body> parser;
  parser.body_limit(256u << 20);
  http::read(impl_->sock, impl_->buf, parser, ec);
  if (ec) {
    out.error = ec.message();
    return out;
  }
  auto res = parser.release();
  out.ok = true;
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  out.body = std::move(res.body());
  return out;
}

bool HttpTestClient::closed_by_server() {
  char c;
  beast::error_code ec;
  impl_->sock.read_some(asio::buffer(&c, 1), ec);
  return ec == asio::error::eof || ec == asio::error::connection_reset;
}

}  // namespace pb::net::test
