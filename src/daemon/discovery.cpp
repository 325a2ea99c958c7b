#include "daemon/discovery.hpp"

#include <algorithm>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "daemon/discovery_policy.hpp"
#include "daemon/discovery_score.hpp"
#include "nostr/canonical.hpp"

namespace pb::daemon {
namespace {

// Refused connection attempts (address rules, per-IP cap) are retried after this long: DNS changes.
constexpr std::int64_t kRetryRefusedSeconds = 3600;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool log_this(std::uint64_t count) { return count <= 10 || count % 1000 == 0; }  // a flood must not flood the log

}  // namespace

Discovery::Discovery(boost::asio::io_context& io, RelayManager& relays, DiscoveryFeed& feed, DaemonLog& log,
                     DiscoverySettings s)
    : io_(io), relays_(relays), feed_(feed), log_(log), settings_(std::move(s)), rate_(settings_.connects_per_minute),
      timer_(io) {
  for (auto reason : refusal_reasons()) refused_[reason] = 0;
}

void Discovery::start() {
  try {
    store_ = std::make_unique<CandidateStore>(settings_.db_path);
    const std::int64_t now = unix_now();
    for (auto& c : store_->load()) {
      c.refusal = judge_url(c.url, settings_.allow_private).reason;
      // A refusal by the rules of an earlier run (e.g. before --allow-private-addresses) is history now.
      if (c.refusal.empty() && c.parked_until <= now && c.last_error.rfind("refused", 0) == 0) c.last_error.clear();
      candidates_.emplace(c.url, std::move(c));
    }
  } catch (const std::exception& e) {
    ++store_errors_;
    store_.reset();
    log_.error(fmt::format("discovery: candidate table unavailable, keeping candidates in memory only: {}", e.what()));
  }
  log_.info(fmt::format("discovery: {} candidates loaded, round every {} ms, up to {} relays", candidates_.size(),
                        settings_.interval.count(), settings_.max_relays));
  last_round_ = std::chrono::steady_clock::now();
  round();
}

void Discovery::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  const auto now = std::chrono::steady_clock::now();
  update_active(std::chrono::duration_cast<std::chrono::milliseconds>(now - last_round_).count());
  save();
}

void Discovery::schedule() {
  timer_.expires_after(settings_.interval);
  timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!ec && self && !self->stopped_) self->round();
  });
}

void Discovery::round() {
  const auto now = std::chrono::steady_clock::now();
  const std::int64_t now_unix = unix_now();
  ingest(now_unix);
  update_active(std::chrono::duration_cast<std::chrono::milliseconds>(now - last_round_).count());
  last_round_ = now;
  const std::size_t operators = relays_.operator_urls().size();
  PlanSettings ps;
  ps.slots = settings_.max_relays > operators ? settings_.max_relays - operators : 0;
  ps.grace_seconds = std::max<std::int64_t>(60, 3 * settings_.interval.count() / 1000);
  const Plan plan = plan_round(candidates_, active_, relays_.operator_urls(), ps, now_unix, [&] {
    if (rate_.try_take(now)) return true;
    ++rate_limited_;
    return false;
  });
  apply(plan, now_unix);
  save();
  ++rounds_;
  schedule();
}

Candidate* Discovery::candidate_for(const std::string& url, std::int64_t now_unix) {
  auto it = candidates_.find(url);
  if (it != candidates_.end()) return &it->second;
  if (candidates_.size() >= kMaxCandidates) return nullptr;
  Candidate c;
  c.url = url;
  c.first_seen = now_unix;
  c.refusal = judge_url(url, settings_.allow_private).reason;
  return &candidates_.emplace(url, std::move(c)).first->second;
}

void Discovery::ingest(std::int64_t now_unix) {
  for (const auto& hint : feed_.take()) {
    const UrlVerdict v = judge_url(hint.url, settings_.allow_private);
    if (v.url.empty()) {  // not a relay URL at all: counted, never stored
      refused(v.reason, hint.url, hint.mentions, "named in a stored event");
      continue;
    }
    Candidate* c = candidate_for(v.url, now_unix);
    if (!c) {
      refused("table_full", v.url, hint.mentions, "named in a stored event");
      continue;
    }
    c->mentions += hint.mentions;
    c->sources |= hint.sources;
    c->last_seen = now_unix;
    c->dirty = true;
    if (!v.reason.empty()) {
      c->last_error = fmt::format("refused: {}", v.reason);
      refused(v.reason, v.url, hint.mentions, "named in a stored event");
    }
  }
}

void Discovery::update_active(std::int64_t elapsed_ms) {
  for (const auto& url : active_) {
    const RelayConnection* conn = relays_.connection(url);
    auto it = candidates_.find(url);
    if (!conn || it == candidates_.end()) continue;
    Candidate& c = it->second;
    Tracking& t = tracking_[url];
    const RelayCounters& rc = conn->counters();
    const std::uint64_t stored = rc.stored.load(), connects = rc.connects.load(), failures = rc.failures_in_row.load();
    c.novel_events += stored - t.stored;
    if (connects != t.connects) c.failures = static_cast<std::uint32_t>(failures);  // it opened: count from there
    else if (failures > t.failures) c.failures += static_cast<std::uint32_t>(failures - t.failures);
    t.active_ms += elapsed_ms;
    if (conn->connected()) t.connected_ms += elapsed_ms;
    c.active_seconds += t.active_ms / 1000, t.active_ms %= 1000;
    c.connected_seconds += t.connected_ms / 1000, t.connected_ms %= 1000;
    if (!conn->last_error().empty()) c.last_error = conn->last_error().substr(0, 300);
    t.stored = stored, t.connects = connects, t.failures = failures;
    c.dirty = true;
  }
}

void Discovery::apply(const Plan& plan, std::int64_t now_unix) {
  for (const auto& url : plan.park) {
    Candidate& c = candidates_.at(url);
    c.parked_until = now_unix + kParkSeconds;
    c.failures = kParkAfterFailures - 1;  // one attempt when the park ends; another failure parks it again
    c.dirty = true;
    ++parks_;
    log_.warn(fmt::format("discovery: parked {} for {} h after {} failed connections in a row ({})", url,
                          kParkSeconds / 3600, kParkAfterFailures, c.last_error));
  }
  for (const auto& url : plan.drop) {
    if (plan.rotated && url == plan.drop.back()) {
      ++rotations_;
      log_.info(fmt::format("discovery: rotating out {} (score {:.2f}) for {}", url, score(candidates_.at(url)), plan.start.back()));
    }
    active_.erase(url);
    ip_slots_.release(url);
    tracking_.erase(url);
  }
  for (const auto& url : plan.start) {
    const Candidate& c = candidates_.at(url);
    log_.info(fmt::format("discovery: connecting {} (score {:.2f}, {} mentions)", url, score(c), c.mentions));
    active_.insert(url);
  }
  if (plan.drop.empty() && plan.start.empty()) return;
  relays_.set_discovered(active_);
  for (const auto& url : plan.start) {
    Tracking& t = tracking_[url];
    if (const RelayConnection* conn = relays_.connection(url)) {
      const RelayCounters& rc = conn->counters();
      t.stored = rc.stored.load(), t.connects = rc.connects.load(), t.failures = rc.failures_in_row.load();
    }
  }
}

void Discovery::drop(const std::string& url) {
  if (!active_.erase(url)) return;
  ip_slots_.release(url);
  tracking_.erase(url);
  relays_.set_discovered(active_);
}

std::optional<std::string> Discovery::admit(const std::string& url, std::vector<boost::asio::ip::address>& addresses) {
  if (relays_.is_operator(url) || !active_.count(url)) return std::nullopt;  // operator relays: never judged
  const AddressFilter f = filter_addresses(addresses, settings_.allow_private);
  std::string_view reason = f.reason;
  std::optional<boost::asio::ip::address> chosen;
  if (reason.empty() && !(chosen = ip_slots_.reserve(url, f.allowed))) reason = "ip_limit";
  if (reason.empty()) {
    addresses = {*chosen};
    return std::nullopt;
  }
  std::string detail = "resolved to";
  for (const auto& a : addresses) detail += " " + a.to_string();
  return refuse_dial(url, reason, detail);
}

// Decision: a discovered relay whose NIP-11 document says it wants NIP-42 auth or payment is not kept: a
// throwaway key is rarely let in and we pay no one. Operator relays are dialled whatever they say.
std::optional<std::string> Discovery::admit_info(const std::string& url, const RelayInfo& info) {
  if (relays_.is_operator(url) || !active_.count(url)) return std::nullopt;
  if (info.payment_required) return refuse_dial(url, "nip11_payment_required", "NIP-11 limitation.payment_required");
  if (info.auth_required) return refuse_dial(url, "nip11_auth_required", "NIP-11 limitation.auth_required");
  return std::nullopt;
}

// A connection attempt refused: counted, shown for kRetryRefusedSeconds, the relay dropped.
std::string Discovery::refuse_dial(const std::string& url, std::string_view reason, const std::string& detail) {
  refused(reason, url, 1, detail);
  if (auto it = candidates_.find(url); it != candidates_.end()) {
    it->second.last_error = fmt::format("refused: {} ({})", reason, detail.substr(0, 200));
    it->second.parked_until = unix_now() + kRetryRefusedSeconds;
    it->second.dirty = true;
  }
  // Leave the connected set after this callback returns (the connection is on the stack).
  boost::asio::post(io_, [weak = weak_from_this(), url] {
    if (auto self = weak.lock(); self && !self->stopped_) self->drop(url);
  });
  return std::string("refused: ") + std::string(reason);
}

void Discovery::refused(std::string_view reason, std::string_view url, std::uint64_t n, std::string_view when) {
  auto& count = refused_[reason];
  const std::uint64_t before = count;
  count += n;
  if (log_this(before + 1) || before / 1000 != count / 1000)
    log_.info(fmt::format("discovery: refused {} reason={} ({}; #{})", loggable_url(url), reason, when, count));
}

void Discovery::save() {
  if (!store_) return;
  std::vector<const Candidate*> rows;
  for (const auto& [url, c] : candidates_)
    if (c.dirty) rows.push_back(&c);
  try {
    store_->save(rows);
    for (auto& [url, c] : candidates_) c.dirty = false;
  } catch (const std::exception& e) {
    if (log_this(++store_errors_)) log_.error(fmt::format("discovery: saving candidates: {}", e.what()));
  }
}

}  // namespace pb::daemon
