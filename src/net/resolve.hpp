// Asynchronous DNS resolution returning every address, so the caller can filter them (SSRF policy)
// before handing the survivors to WsClient, which never resolves on its own.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

namespace boost::asio {
class io_context;
}

namespace pb::net {

using ResolveHandler = std::function<void(boost::system::error_code, std::vector<boost::asio::ip::address>)>;

// Resolves host (A and AAAA) on io. The handler runs on an io thread with the de-duplicated addresses in
// resolver order. An IP literal is returned as is without a lookup.
void async_resolve(boost::asio::io_context& io, const std::string& host, ResolveHandler handler);

}  // namespace pb::net
