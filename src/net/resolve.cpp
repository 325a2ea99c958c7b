#include "net/resolve.hpp"

#include <algorithm>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

namespace pb::net {
namespace asio = boost::asio;

void async_resolve(asio::io_context& io, const std::string& host, ResolveHandler handler) {
  boost::system::error_code ec;
  const auto literal = asio::ip::make_address(host, ec);
  if (!ec) {
    asio::post(io, [handler = std::move(handler), literal]() { handler({}, {literal}); });
    return;
  }
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(io);
  resolver->async_resolve(host, "0", [resolver, handler = std::move(handler)](
                                         const boost::system::error_code& rec, asio::ip::tcp::resolver::results_type results) {
    std::vector<asio::ip::address> out;
    if (!rec) {
      for (const auto& entry : results) {
        const auto a = entry.endpoint().address();
        if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
      }
    }
    handler(rec, std::move(out));
  });
}

}  // namespace pb::net
