#include "daemon/relay_info_cache.hpp"

#include <fmt/format.h>

#include "nostr/canonical.hpp"

namespace pb::daemon {
namespace {

std::string_view outcome_of(const net::HttpGetResult& r, bool parsed) {
  switch (r.error) {
    case net::HttpGetError::none: break;
    case net::HttpGetError::timeout: return "timeout";
    case net::HttpGetError::too_large: return "too_large";
    case net::HttpGetError::connect_failed:
    case net::HttpGetError::tls_failed:
    case net::HttpGetError::protocol: return "failed";
  }
  if (r.status != 200) return "http_status";
  return parsed ? "ok" : "invalid";
}

}  // namespace

const std::vector<std::string_view>& RelayInfoCache::outcomes() {
  static const std::vector<std::string_view> all = {"ok", "http_status", "invalid", "too_large", "timeout", "failed"};
  return all;
}

RelayInfoCache::RelayInfoCache(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> tls, DaemonLog& log,
                               std::chrono::milliseconds timeout)
    : io_(io), tls_(std::move(tls)), log_(log), timeout_(timeout) {
  for (auto o : outcomes()) fetches_[o] = 0;
}

std::shared_ptr<net::HttpGet> RelayInfoCache::fetch(const net::RelayUrl& url, std::vector<boost::asio::ip::address> addresses,
                                                    Done done) {
  const auto it = entries_.find(url.normalized);
  if (it != entries_.end() && std::chrono::steady_clock::now() - it->second.fetched < kRefresh) {
    done(it->second.info ? &*it->second.info : nullptr);
    return nullptr;
  }
  net::HttpGetOptions opts;
  opts.timeout = timeout_;
  opts.max_body = kMaxInfoBytes;
  opts.headers = {{"Accept", "application/nostr+json"}};
  opts.user_agent = "proton-beam-daemon";
  auto handler = [weak = weak_from_this(), key = url.normalized, done = std::move(done)](net::HttpGetResult r) {
    auto self = weak.lock();
    if (!self) return;
    self->finish(key, std::move(r));
    const auto& e = self->entries_.at(key);
    done(e.info ? &*e.info : nullptr);
  };
  return net::HttpGet::start(io_, url, std::move(addresses), url.tls() ? tls_ : nullptr, std::move(opts), std::move(handler));
}

void RelayInfoCache::finish(const std::string& url, net::HttpGetResult r) {
  std::optional<RelayInfo> info;
  if (r.error == net::HttpGetError::none && r.status == 200) info = parse_relay_info(r.body);
  const std::string_view outcome = outcome_of(r, info.has_value());
  ++fetches_[outcome];
  entries_[url] = {std::move(info), std::chrono::steady_clock::now()};
  const auto& got = entries_[url].info;
  if (got)
    log_.info(fmt::format("relay {}: NIP-11 max_limit={} auth_required={} payment_required={}", url,
                          got->max_limit ? std::to_string(*got->max_limit) : "none", got->auth_required,
                          got->payment_required));
  else
    log_.info(fmt::format("relay {}: no NIP-11 document ({}{}); dialling anyway", url, outcome,
                          r.error != net::HttpGetError::none ? ": " + r.detail
                          : r.status != 200                 ? fmt::format(": HTTP {}", r.status)
                                                            : std::string()));
}

const RelayInfo* RelayInfoCache::info(const std::string& url) const {
  const auto it = entries_.find(url);
  return it != entries_.end() && it->second.info ? &*it->second.info : nullptr;
}

void RelayInfoCache::append_json(std::string& out, const std::string& url) const {
  const RelayInfo* i = info(url);
  out += ",\"nip11\":";
  if (!i) {
    out += "null";
    return;
  }
  out += "{\"name\":";
  append_json_string(out, i->name);
  out += ",\"software\":";
  append_json_string(out, i->software);
  out += i->max_limit ? fmt::format(",\"max_limit\":{}", *i->max_limit) : std::string(",\"max_limit\":null");
  out += fmt::format(",\"auth_required\":{},\"payment_required\":{}}}", i->auth_required, i->payment_required);
}

void RelayInfoCache::append_metrics(std::string& out) const {
  out += "# HELP proton_beam_nip11_fetches_total NIP-11 relay information fetches, by outcome\n"
         "# TYPE proton_beam_nip11_fetches_total counter\n";
  for (auto o : outcomes()) out += fmt::format("proton_beam_nip11_fetches_total{{outcome=\"{}\"}} {}\n", o, fetches_.at(o));
}

}  // namespace pb::daemon
