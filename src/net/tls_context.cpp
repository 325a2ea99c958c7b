#include "net/tls_context.hpp"

#include <stdexcept>

#include <boost/asio/ssl/context.hpp>

namespace pb::net {
namespace ssl = boost::asio::ssl;

namespace {
std::shared_ptr<ssl::context> base_context(ssl::context::method method) {
  auto ctx = std::make_shared<ssl::context>(method);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  return ctx;
}
}  // namespace

std::shared_ptr<ssl::context> make_client_tls_context(const TlsClientConfig& config) {
  auto ctx = base_context(ssl::context::tls_client);
  boost::system::error_code ec;
  if (config.ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) throw std::runtime_error("cannot load the system CA paths: " + ec.message());
  } else {
    ctx->load_verify_file(config.ca_file, ec);
    if (ec) throw std::runtime_error("cannot load CA file '" + config.ca_file + "': " + ec.message());
  }
  ctx->set_verify_mode(config.verify_peer ? ssl::verify_peer : ssl::verify_none);
  return ctx;
}

std::shared_ptr<ssl::context> make_server_tls_context(const std::string& cert_chain_file,
                                                      const std::string& private_key_file) {
  auto ctx = base_context(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_chain_file, ec);
  if (ec) throw std::runtime_error("cannot load certificate '" + cert_chain_file + "': " + ec.message());
  ctx->use_private_key_file(private_key_file, ssl::context::pem, ec);
  if (ec) throw std::runtime_error("cannot load private key '" + private_key_file + "': " + ec.message());
  return ctx;
}

}  // namespace pb::net
