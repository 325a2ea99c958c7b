// Relays' NIP-11 documents (nip11_info.hpp), fetched before a relay is dialled: HTTP(S) GET on the relay's
// URL with "Accept: application/nostr+json", to the very addresses the WebSocket will dial (resolved and
// checked once: no second lookup), through the same TLS context, within --connect-timeout-ms, at most
// kMaxInfoBytes. Kept per URL for the process; a reconnect fetches again once the entry is kRefresh old.
// Whatever the outcome, the caller dials next: many relays have no document. io thread only.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "daemon/daemon_log.hpp"
#include "daemon/nip11_info.hpp"
#include "net/http_get.hpp"
#include "net/relay_url.hpp"

namespace pb::daemon {

class RelayInfoCache : public std::enable_shared_from_this<RelayInfoCache> {
 public:
  static constexpr std::chrono::seconds kRefresh{3600};
  // Each fetch ends in exactly one of these (proton_beam_nip11_fetches_total{outcome=...}).
  static const std::vector<std::string_view>& outcomes();

  RelayInfoCache(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> tls, DaemonLog& log,
                 std::chrono::milliseconds timeout);

  using Done = std::function<void(const RelayInfo*)>;  // the document, or null when there is none
  // A fresh entry: done runs now and nothing is returned. Otherwise a GET to `addresses` starts, and done
  // runs when it ends; cancel the returned handle to abandon it (done then never runs).
  std::shared_ptr<net::HttpGet> fetch(const net::RelayUrl& url, std::vector<boost::asio::ip::address> addresses, Done done);

  const RelayInfo* info(const std::string& url) const;
  // ,"nip11":{"name":..,"software":..,"max_limit":..|null,"auth_required":..,"payment_required":..}|null
  void append_json(std::string& out, const std::string& url) const;
  void append_metrics(std::string& out) const;

 private:
  struct Entry {
    std::optional<RelayInfo> info;
    std::chrono::steady_clock::time_point fetched;
  };
  void finish(const std::string& url, net::HttpGetResult result);

  boost::asio::io_context& io_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  DaemonLog& log_;
  std::chrono::milliseconds timeout_;
  std::map<std::string, Entry> entries_;
  std::map<std::string_view, std::uint64_t> fetches_;  // by outcome
};

}  // namespace pb::daemon
