// What every relay connection shares: the io_context (one thread runs it, so everything here is used
// from that thread only), the settings, TLS, the queue to the workers and the log.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "daemon/config.hpp"
#include "daemon/counters.hpp"
#include "daemon/daemon_log.hpp"
#include "daemon/pipeline_types.hpp"
#include "daemon/relay_info_cache.hpp"
#include "daemon/relay_message.hpp"
#include "daemon/work_queue.hpp"
#include "nostr/filter.hpp"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace pb::daemon {

struct RelayContext {
  boost::asio::io_context& io;
  DaemonConfig config;                                // connection settings (fixed at start)
  std::shared_ptr<boost::asio::ssl::context> tls;
  WorkQueue<InboundEvent>& events;
  DaemonLog& log;
  Counters& global;
  Filter filter;                                      // our subscription (since added per REQ)
  RelayMessageParser parser;                          // io thread only
  std::uint64_t history_runs = 0;                     // numbers each connection's history run (cursor_hold.hpp)
  std::uint64_t events_read = 0;                      // numbers EVENT frames in arrival order (InboundEvent::ordinal)
  // Connection gate (discovery's SSRF rules), called with a relay's freshly resolved addresses: may narrow
  // them (the connection dials exactly what is left, never resolving again) or refuse with a reason.
  std::function<std::optional<std::string>(const std::string& url, std::vector<boost::asio::ip::address>&)> admit;
  // NIP-11 documents, fetched after `admit` and before the dial (null: none fetched).
  std::shared_ptr<RelayInfoCache> info;
  // Second gate (discovery: auth or payment required), called with a relay's document before it dials.
  std::function<std::optional<std::string>(const std::string& url, const RelayInfo&)> admit_info;
};

}  // namespace pb::daemon
