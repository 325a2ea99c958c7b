// One bounded HTTP(S) GET to pre-resolved addresses (no DNS of its own, like WsClient), driven by a
// caller-supplied io_context: connect, TLS (SNI and host-name check as WsClient), request, response, all
// within one deadline, with a cap on the response body. No redirects are followed. Made for a relay's
// NIP-11 document: GET on the relay's own URL, ws:// as http://, wss:// as https://.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "net/http_types.hpp"
#include "net/relay_url.hpp"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace pb::net {

struct HttpGetOptions {
  std::chrono::milliseconds timeout{10'000};  // connect + TLS + request + whole response, in total
  std::size_t max_body = 64 * 1024;           // a longer body fails with too_large (also a longer Content-Length)
  HeaderList headers;                         // extra request headers (e.g. Accept)
  std::string user_agent = "proton-beam";
};

enum class HttpGetError { none, timeout, connect_failed, tls_failed, too_large, protocol };

struct HttpGetResult {
  HttpGetError error = HttpGetError::none;  // none: a complete response arrived (any status)
  std::string detail;                       // the system's message when error != none
  int status = 0;
  std::string body;
};

// A running GET. The handler runs once on an io thread, unless cancel() came first.
class HttpGet {
 public:
  using Handler = std::function<void(HttpGetResult)>;
  // url: the host (Host header, SNI, certificate name), port and target; TLS when url.tls(). tls must be
  // set for wss:// URLs. addresses: where to connect, tried in order on url.port.
  static std::shared_ptr<HttpGet> start(boost::asio::io_context& io, const RelayUrl& url,
                                        std::vector<boost::asio::ip::address> addresses,
                                        std::shared_ptr<boost::asio::ssl::context> tls, HttpGetOptions options,
                                        Handler handler);
  virtual ~HttpGet() = default;
  // Thread-safe. Aborts the request; the handler is not called after it returns on the io thread.
  virtual void cancel() = 0;
};

const char* to_string(HttpGetError e);

}  // namespace pb::net
