#include "daemon/relay_manager.hpp"

#include <fmt/format.h>

#include "nostr/canonical.hpp"

namespace pb::daemon {

RelayManager::RelayManager(RelayContext& ctx, std::map<std::string, std::int64_t> cursors)
    : ctx_(ctx), initial_cursors_(std::move(cursors)) {}

std::shared_ptr<RelayCounters> RelayManager::counters_for(const std::string& url) {
  auto& c = counters_[url];
  if (!c) {
    const auto it = initial_cursors_.find(url);
    c = std::make_shared<RelayCounters>(url, ctx_.global, it == initial_cursors_.end() ? -1 : it->second);
  }
  return c;
}

void RelayManager::set_relays(const std::vector<std::string>& urls) {
  operator_list_ = urls;
  operators_ = std::set<std::string>(urls.begin(), urls.end());
  sync("removed from the configuration");
}

void RelayManager::set_discovered(const std::set<std::string>& urls) {
  discovered_ = urls;
  sync("dropped by discovery");
}

void RelayManager::sync(std::string_view why) {
  for (auto it = relays_.begin(); it != relays_.end();) {
    if (operators_.count(it->first) || discovered_.count(it->first)) {
      ++it;
      continue;
    }
    ctx_.log.info(fmt::format("relay {} {}: closing", it->first, why));
    if (auto held = it->second->stop()) ctx_.events.push(std::move(*held));
    it = relays_.erase(it);
  }
  auto start = [this](const std::string& url) {
    if (relays_.count(url)) return;
    auto conn = std::make_shared<RelayConnection>(ctx_, signer_, counters_for(url));
    relays_.emplace(url, conn);
    conn->start();
  };
  for (const auto& url : operator_list_) start(url);
  for (const auto& url : discovered_) start(url);
}

const RelayConnection* RelayManager::connection(const std::string& url) const {
  const auto it = relays_.find(url);
  return it == relays_.end() ? nullptr : it->second.get();
}

std::vector<InboundEvent> RelayManager::stop_all() {
  std::vector<InboundEvent> held;
  for (auto& [url, conn] : relays_)
    if (auto h = conn->stop()) held.push_back(std::move(*h));
  relays_.clear();
  return held;
}

void RelayManager::resume_paused() {
  for (auto& [url, conn] : relays_)
    if (conn->paused()) conn->resume();
}

std::size_t RelayManager::connected() const {
  std::size_t n = 0;
  for (const auto& [url, conn] : relays_) n += conn->connected() ? 1 : 0;
  return n;
}

std::string RelayManager::relays_json(const ExtraFields& extra) const {
  std::string out = "[";
  for (const auto& [url, conn] : relays_) {
    const auto& c = conn->counters();
    if (out.size() > 1) out += ",";
    out += "{\"url\":";
    append_json_string(out, url);
    out += ",\"origin\":";
    append_json_string(out, operators_.count(url) ? "operator" : "discovered");
    out += ",\"state\":";
    append_json_string(out, conn->state());
    const auto cursor = c.cursor.load();
    out += cursor >= 0 ? fmt::format(",\"cursor\":{}", cursor) : std::string(",\"cursor\":null");
    out += fmt::format(",\"received\":{},\"stored\":{},\"duplicates\":{},\"invalid\":{},\"filtered\":{}", c.received.load(),
                       c.stored.load(), c.duplicates.load(), c.invalid.load(), c.filtered.load());
    out += fmt::format(",\"unknown_subscription\":{},\"malformed\":{},\"oversize\":{},\"notices\":{}", c.unknown_sub.load(),
                       c.malformed.load(), c.oversize.load(), c.notices.load());
    out += fmt::format(",\"connects\":{},\"disconnects\":{},\"auth_sent\":{},\"rate_limited\":{},\"pages\":{}",
                       c.connects.load(), c.disconnects.load(), c.auth_sent.load(), c.rate_limited.load(), c.pages.load());
    out += ",\"last_error\":";
    append_json_string(out, conn->last_error());
    out += fmt::format(",\"page_limit\":{}", conn->page_limit());
    if (ctx_.info) ctx_.info->append_json(out, url);
    if (extra) extra(out, url);
    out += "}";
  }
  return out + "]";
}

}  // namespace pb::daemon
