#include "daemon/relay_connection.hpp"

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "net/close_reason.hpp"
#include "net/resolve.hpp"
#include "nostr/canonical.hpp"

namespace pb::daemon {
namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

std::string req_message(const std::string& sub, const Filter& f) {
  std::string req = "[\"REQ\",";
  append_json_string(req, sub);
  return req + "," + f.to_json() + "]";
}

}  // namespace

RelayConnection::RelayConnection(RelayContext& ctx, Nip42Signer& signer, std::shared_ptr<RelayCounters> counters)
    : ctx_(ctx), signer_(signer), counters_(std::move(counters)), url_(*net::parse_relay_url(counters_->url).url),
      timer_(ctx.io), backoff_(ctx.config.reconnect_min_ms, ctx.config.reconnect_max_ms),
      page_limit_(ctx.config.page_size) {}

void RelayConnection::start() { connect(); }

std::optional<InboundEvent> RelayConnection::stop() {
  stopped_ = true;
  timer_.cancel();
  if (info_fetch_) info_fetch_->cancel();
  info_fetch_.reset();
  client_.reset();  // no handler runs after this
  open_ = false;
  auto held = std::move(held_);
  held_.reset();
  return held;
}

std::string RelayConnection::state() const {
  if (stopped_) return "stopped";
  if (client_ && open_) return held_ ? "paused" : "connected";
  if (client_ || fetching_info_) return "connecting";
  return resolving_ ? "resolving" : "waiting";
}

void RelayConnection::connect() {
  if (stopped_) return;
  resolving_ = true;
  net::async_resolve(ctx_.io, url_.host, [weak = weak_from_this()](boost::system::error_code ec, auto addresses) {
    auto self = weak.lock();
    if (!self || self->stopped_) return;
    self->resolving_ = false;
    if (ec || addresses.empty()) {
      ++self->counters_->failures_in_row;
      self->last_error_ = "resolve failed: " + (ec ? ec.message() : std::string("no address"));
      return self->reconnect_later();
    }
    if (auto why = self->ctx_.admit ? self->ctx_.admit(self->url(), addresses) : std::nullopt) {
      self->last_error_ = *why;  // discovery drops the relay; until then it waits like after a failure
      return self->reconnect_later();
    }
    self->fetch_info(std::move(addresses));
  });
}

// The NIP-11 document goes to the addresses just resolved and admitted, as the dial will. Without one the
// relay is dialled all the same, with limit = --page-size.
void RelayConnection::fetch_info(std::vector<boost::asio::ip::address> addresses) {
  if (!ctx_.info) return open_client(std::move(addresses));
  fetching_info_ = true;
  auto done = [weak = weak_from_this(), addresses](const RelayInfo* info) mutable {
    auto self = weak.lock();
    if (!self || self->stopped_) return;
    self->fetching_info_ = false;
    self->info_fetch_.reset();
    self->page_limit_ = clamp_page_size(self->ctx_.config.page_size, info ? info->max_limit : std::nullopt);
    if (auto why = info && self->ctx_.admit_info ? self->ctx_.admit_info(self->url(), *info) : std::nullopt) {
      self->last_error_ = *why;  // discovery drops the relay; until then it waits like after a failure
      return self->reconnect_later();
    }
    self->open_client(std::move(addresses));
  };
  info_fetch_ = ctx_.info->fetch(url_, addresses, std::move(done));
}

void RelayConnection::open_client(std::vector<boost::asio::ip::address> addresses) {
  const auto& c = ctx_.config;
  net::WsClientOptions opts;
  opts.connect_timeout = std::chrono::milliseconds(c.connect_timeout_ms);
  opts.ping_interval = std::chrono::milliseconds(c.ping_interval_ms);
  opts.pong_timeout = std::chrono::milliseconds(c.pong_timeout_ms);
  opts.read_message_max = c.max_message_bytes;
  opts.user_agent = "proton-beam-daemon";
  net::WsClientHandlers h;
  auto weak = weak_from_this();
  h.on_open = [weak] { if (auto s = weak.lock()) s->on_open(); };
  h.on_message = [weak](std::string&& m) { auto s = weak.lock(); return s ? s->on_message(std::move(m)) : true; };
  h.on_binary = [weak](std::string&&) {
    if (auto s = weak.lock()) {
      s->counters_->bump(&Counters::malformed);
      s->note("binary frame ignored", s->counters_->malformed.load());
    }
    return true;
  };
  h.on_oversize = [weak](std::size_t bytes) { if (auto s = weak.lock()) s->on_oversize(bytes); };
  h.on_close = [weak](const std::string& reason, boost::system::error_code) { if (auto s = weak.lock()) s->on_close(reason); };
  client_ = std::make_unique<net::WsClient>(ctx_.io, url_, std::move(addresses), url_.tls() ? ctx_.tls : nullptr,
                                            opts, std::move(h));
  client_->start();
}

void RelayConnection::on_open() {
  open_ = true;
  counters_->failures_in_row = 0;
  eose_ = auth_tried_ = false;
  opened_at_ = std::chrono::steady_clock::now();
  counters_->bump(&Counters::connects);
  ctx_.log.info(fmt::format("relay {} connected", url()));
  send_req();
}

// Each REQ opens a history run: until its end mark is queued, what the events read may move the relay's
// cursor to is held back by the writer (a re-sent REQ abandons the run before; a later run releases it).
void RelayConnection::send_req() {
  if (!client_ || !open_) return;
  close_page();
  sub_ = fmt::format("pb{}", ++sub_gen_);
  eose_ = false;
  Filter f = ctx_.filter;
  const std::int64_t cursor = counters_->cursor.load();
  const auto& c = ctx_.config;
  if (cursor >= 0) f.since = std::max<std::int64_t>(0, cursor - c.overlap_seconds);
  else if (c.backfill_since) f.since = *c.backfill_since;
  else f.since = std::max<std::int64_t>(0, unix_now() - c.overlap_seconds);
  f.limit = static_cast<std::int64_t>(page_limit_);
  pager_.emplace(*f.since, page_limit_);  // a page of page_limit_ events is full: page on
  run_ = ++ctx_.history_runs;
  run_events_ = 0;
  send(req_message(sub_, f), "could not send REQ (send queue refused it)");
}

void RelayConnection::send_page() {
  if (!client_ || !open_ || !pager_ || !pager_->until()) return;
  page_sub_ = fmt::format("pg{}", ++sub_gen_);
  Filter f = ctx_.filter;
  f.since = pager_->since();
  f.until = *pager_->until();
  f.limit = static_cast<std::int64_t>(pager_->page_size());
  counters_->bump(&Counters::pages);
  send(req_message(page_sub_, f), "could not send a history page REQ (send queue refused it)");
}

bool RelayConnection::end_page() {
  const PageStep step = pager_->end_page();
  switch (step.verdict) {
    case PageVerdict::more: return send_page(), true;
    case PageVerdict::skip_second:
      ctx_.log.warn(fmt::format("relay {}: a full page of events at created_at {}: paging on before it (what the relay "
                                "holds at that second beyond its limit cannot be asked for with until)",
                                url(), step.until + 1));
      return send_page(), true;
    case PageVerdict::no_progress:
      ctx_.log.warn(fmt::format("relay {}: history paging stopped: a full page with nothing at or before until={} "
                                "(the relay ignores until)", url(), pager_->until().value_or(0)));
      break;
    case PageVerdict::complete: break;
  }
  return finish_history();
}

// The run's end mark follows its events through the queues; from now on events are not tagged.
bool RelayConnection::finish_history() {
  InboundEvent mark{counters_, {}, 0, 0, {run_, true, run_events_}};
  pager_.reset();
  run_ = run_events_ = 0;
  return push(std::move(mark));
}

void RelayConnection::close_page() {
  if (page_sub_.empty()) return;
  std::string close = "[\"CLOSE\",";
  append_json_string(close, page_sub_);
  page_sub_.clear();
  send(close + "]", "could not send CLOSE (send queue refused it)");
}

void RelayConnection::send(std::string message, const char* what) {
  if (!client_->send(std::move(message))) fail(what);  // never stay deaf
}

bool RelayConnection::push(InboundEvent&& item) {
  if (ctx_.events.try_push(item)) return true;
  held_ = std::move(item);  // the queue is full: hold this one, pause reading until there is room
  counters_->bump(&Counters::backpressure);
  return false;
}

bool RelayConnection::on_message(std::string&& frame) {
  RelayMessage m = ctx_.parser.parse(frame);
  switch (m.type) {
    case RelayMsgType::event: {
      const bool page = !page_sub_.empty() && m.sub == page_sub_;
      if (m.sub != sub_ && !page) {
        counters_->bump(&Counters::unknown_sub);
        note("EVENT for unknown subscription " + m.sub.substr(0, 64), counters_->unknown_sub.load());
        return true;
      }
      counters_->bump(&Counters::received);
      if (pager_ && (page || !eose_)) pager_->event(ctx_.parser.created_at(m.event));  // a stored event
      const std::size_t offset = static_cast<std::size_t>(m.event.data() - frame.data()), size = m.event.size();
      InboundEvent item{counters_, std::move(frame), offset, size, {}, ++ctx_.events_read};
      if (run_) {  // read before the history run ended: the writer holds the cursor for it (cursor_hold.hpp)
        item.history.run = run_;
        ++run_events_;
      }
      return push(std::move(item));
    }
    case RelayMsgType::eose:
      if (m.sub == sub_ && !eose_) {
        eose_ = true;
        if (pager_) return end_page();
      } else if (!page_sub_.empty() && m.sub == page_sub_) {
        close_page();
        if (pager_) return end_page();
      }
      break;
    case RelayMsgType::notice:
      counters_->bump(&Counters::notices);
      note("NOTICE " + m.text.substr(0, 200), counters_->notices.load());
      break;
    case RelayMsgType::closed:
      if (m.sub == sub_) {
        sub_.clear();
        close_page();
        on_closed_sub(m.text, &RelayConnection::send_req);
      } else if (!page_sub_.empty() && m.sub == page_sub_) {
        page_sub_.clear();
        on_closed_sub(m.text, &RelayConnection::send_page);
      }
      break;
    case RelayMsgType::auth: challenge_ = m.text.substr(0, 512); break;
    case RelayMsgType::ok: break;
    case RelayMsgType::other:
    case RelayMsgType::malformed:
      counters_->bump(&Counters::malformed);
      note("malformed message: " + (m.error.empty() ? std::string("unknown type") : m.error), counters_->malformed.load());
      break;
  }
  return true;
}

// Our live subscription or the history page in flight was closed by the relay; `again` sends it anew.
void RelayConnection::on_closed_sub(const std::string& reason, void (RelayConnection::*again)()) {
  if (starts_with(reason, "auth-required:") && !challenge_.empty() && !auth_tried_) {
    auth_tried_ = true;
    counters_->bump(&Counters::auth_sent);
    ctx_.log.info(fmt::format("relay {} requires NIP-42 auth: answering the challenge", url()));
    client_->send(signer_.auth_message(url(), challenge_, unix_now()));
    return (this->*again)();  // processed after our AUTH (relays handle a connection's messages in order)
  }
  if (starts_with(reason, "rate-limited:")) {
    counters_->bump(&Counters::rate_limited);
    const auto delay = backoff_.next();
    ctx_.log.info(fmt::format("relay {} rate-limited us ({}): REQ again in {} ms", url(), reason, delay.count()));
    return schedule(delay, again);
  }
  counters_->bump(&Counters::closed_other);
  fail("subscription closed by relay: " + reason.substr(0, 200));  // never stay connected but deaf
}

// A message over --max-message-bytes was skipped on a connection that stays open. It may have been an
// event of the history page in flight: it counts toward that page, so a full page is still paged on
// (its created_at is unknown, so the page's oldest comes from the events around it).
void RelayConnection::on_oversize(std::size_t bytes) {
  counters_->bump(&Counters::oversize);
  note(fmt::format("message of {} bytes skipped (over --max-message-bytes {})", bytes, ctx_.config.max_message_bytes),
       counters_->oversize.load());
  if (pager_ && (!page_sub_.empty() || !eose_)) pager_->event(std::nullopt);
}

void RelayConnection::fail(const std::string& why) {
  last_error_ = why;
  ctx_.log.warn(fmt::format("relay {}: {}", url(), why));
  if (client_) client_->close();
}

void RelayConnection::on_close(const std::string& reason) {
  const bool was_open = open_;
  open_ = false;
  if (reason == net::reason::message_too_big) counters_->bump(&Counters::oversize);
  if (was_open) counters_->bump(&Counters::disconnects);
  else ++counters_->failures_in_row;  // the attempt never opened
  if (reason != net::reason::closed_locally || last_error_.empty()) last_error_ = reason;
  ctx_.log.info(fmt::format("relay {} closed: {}", url(), last_error_));
  if (held_) ctx_.events.push(std::move(*held_));  // read before the close: queue it (blocks briefly at worst)
  held_.reset();
  client_.reset();
  page_sub_.clear();  // an unfinished history run is abandoned: the next connection's run covers it
  pager_.reset();
  run_ = 0;
  if (was_open && std::chrono::steady_clock::now() - opened_at_ >= std::chrono::milliseconds(ctx_.config.stable_after_ms))
    backoff_.reset();
  if (!stopped_) reconnect_later();
}

void RelayConnection::resume() {
  if (!held_ || !client_) return;
  if (!ctx_.events.try_push(*held_)) return;  // still full: the queue calls again
  held_.reset();
  client_->resume_reading();
}

void RelayConnection::reconnect_later() {
  const auto delay = backoff_.next();
  ctx_.log.info(fmt::format("relay {}: reconnecting in {} ms ({})", url(), delay.count(), last_error_));
  schedule(delay, &RelayConnection::connect);
}

void RelayConnection::schedule(std::chrono::milliseconds delay, void (RelayConnection::*what)()) {
  timer_.expires_after(delay);
  timer_.async_wait([weak = weak_from_this(), what](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!ec && self && !self->stopped_) ((*self).*what)();
  });
}

void RelayConnection::note(const std::string& msg, std::uint64_t count) {
  if (count <= 10 || count % 1000 == 0)  // rate-limited: a hostile relay must not flood the log
    ctx_.log.warn(fmt::format("relay {}: {} (#{})", url(), msg, count));
}

}  // namespace pb::daemon
