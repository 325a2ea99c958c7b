// Factories for the shared OpenSSL contexts (one per process is enough; share it between connections).
#pragma once

#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace pb::net {

struct TlsClientConfig {
  std::string ca_file;       // PEM bundle to trust; empty = the system default CA paths
  bool verify_peer = true;   // false only for tests / an explicit --insecure
};

// A TLS 1.2+ client context. Throws std::runtime_error if the CA file cannot be loaded.
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(const TlsClientConfig& config);

// A TLS 1.2+ server context from PEM certificate chain and private key files. Throws std::runtime_error.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const std::string& cert_chain_file,
                                                                   const std::string& private_key_file);

}  // namespace pb::net
