#include "serve/relay_session.hpp"

#include <chrono>

#include "serve/filter_list.hpp"
#include "serve/live_tail.hpp"
#include "serve/wire.hpp"

namespace pb::serve {
namespace {

// A REQ that can send at most this many events before EOSE starts ahead of broader new ones (worker_pool.hpp).
constexpr std::uint64_t kSmallReqEvents = 50;

// One slice of a REQ: more of its snapshot, or (once complete) the snapshot, EOSE, and (with a live tail)
// the hand-off to the tail. True when the REQ needs no further slice.
bool req_slice(ServerContext& ctx, const std::shared_ptr<Subscription>& sub, ReqProgress& progress, bool& started,
               WorkerContext& w) {
  if (sub->closed) return true;
  if (!started) {
    if (ctx.tail) progress.max_seq = w.index.last_seq();
    progress.frame = {event_message_head(sub->id), "]"};
    started = true;
  }
  const auto deadline = std::chrono::steady_clock::now() + w.slice;
  try {
    if (!w.engine.req_step(sub->filters, progress, deadline)) return false;
  } catch (const BudgetExceeded& e) {
    ++ctx.metrics.refused_budget;
    sub->send(closed_message(sub->id, std::string("error: ") + e.what()));
    sub->closed = true;
    return true;
  } catch (const std::exception& e) {
    sub->send(closed_message(sub->id, std::string("error: ") + e.what()));
    sub->closed = true;
    return true;
  }
  std::vector<std::string> answer;
  answer.reserve(progress.events.size() + 1);
  for (ServedEvent& ev : progress.events) answer.push_back(std::move(ev.text));  // whole EVENT messages
  answer.push_back(eose_message(sub->id));
  if (!sub->send_all(std::move(answer))) return true;
  ctx.metrics.events_sent += progress.events.size();
  if (ctx.tail && progress.max_seq) ctx.tail->add(sub, *progress.max_seq);
  return true;
}

// One slice of a COUNT; true when it needs no further slice (answered, or refused).
bool count_slice(ServerContext& ctx, const std::shared_ptr<Subscription>& sub, CountProgress& progress,
                 WorkerContext& w) {
  try {
    if (!w.engine.count_step(sub->filters, progress, std::chrono::steady_clock::now() + w.slice)) return false;
    sub->send(count_message(sub->id, progress.count));
  } catch (const BudgetExceeded& e) {
    ++ctx.metrics.refused_budget;
    sub->send(closed_message(sub->id, std::string("error: ") + e.what()));
  } catch (const std::exception& e) {
    sub->send(closed_message(sub->id, std::string("error: ") + e.what()));
  }
  return true;
}

}  // namespace

RelaySession::RelaySession(std::shared_ptr<net::WsServerSession> ws, ServerContext& ctx)
    : ws_(ws), ctx_(ctx), ip_(ws->remote_address()) {}

void RelaySession::attach(std::shared_ptr<net::WsServerSession> ws, ServerContext& ctx) {
  auto self = std::make_shared<RelaySession>(ws, ctx);
  ++ctx.metrics.ws_sessions;
  ++ctx.metrics.open_sessions;
  ws->set_handlers({
      [self](std::string&& payload, bool is_binary) { return self->on_message(std::move(payload), is_binary); },
      [self](const std::string&, boost::system::error_code) { self->on_close(); },
  });
}

void RelaySession::send(std::string message) {
  if (auto ws = ws_.lock()) ws->send(std::move(message));
}

void RelaySession::on_close() {
  for (auto& [id, sub] : subs_) {
    if (!sub->closed.exchange(true)) --ctx_.metrics.open_subscriptions;
  }
  subs_.clear();
  --ctx_.metrics.open_sessions;
}

void RelaySession::forget_closed() {
  // Subscriptions still listed but closed were ended by their worker (an error): not counted any more.
  std::erase_if(subs_, [&](const auto& kv) {
    if (!kv.second->closed.load()) return false;
    --ctx_.metrics.open_subscriptions;
    return true;
  });
}

bool RelaySession::on_message(std::string&& payload, bool is_binary) {
  ++ctx_.metrics.ws_messages;
  if (is_binary) {
    ++ctx_.metrics.invalid_messages;
    send(notice_message("invalid: binary messages are not supported"));
    return true;
  }
  simdjson::dom::element root;
  simdjson::dom::array msg;
  if (parser_.parse(payload).get(root) || root.get_array().get(msg)) {
    ++ctx_.metrics.invalid_messages;
    send(notice_message("invalid: message is not a JSON array"));
    return true;
  }
  handle(msg);
  return true;
}

void RelaySession::handle(simdjson::dom::array msg) {
  std::string_view verb;
  if (msg.size() == 0 || msg.at(0).get_string().get(verb)) {
    ++ctx_.metrics.invalid_messages;
    return send(notice_message("invalid: the first element must be the message type"));
  }
  if (verb == "EVENT") return handle_event(msg);
  if (verb != "REQ" && verb != "COUNT" && verb != "CLOSE") {
    ++ctx_.metrics.invalid_messages;
    return send(notice_message("invalid: unknown message type"));
  }
  std::string_view sub_id;
  if (msg.size() < 2 || msg.at(1).get_string().get(sub_id) || sub_id.empty()) {
    ++ctx_.metrics.invalid_messages;
    return send(notice_message("invalid: " + std::string(verb) + " needs a non-empty subscription id string"));
  }
  if (sub_id.size() > ctx_.options.max_subid_length) {
    ++ctx_.metrics.refused_caps;
    return send(notice_message("invalid: subscription id longer than " +
                               std::to_string(ctx_.options.max_subid_length) + " characters"));
  }
  if (verb == "CLOSE") return handle_close(sub_id);
  if (!ctx_.limiter.allow(ip_)) {
    ++ctx_.metrics.refused_rate;
    return send(closed_message(sub_id, "rate-limited: too many requests from your address, slow down"));
  }
  if (verb == "REQ") return handle_req(msg, sub_id);
  return handle_count(msg, sub_id);
}

void RelaySession::handle_req(simdjson::dom::array msg, std::string_view sub_id) {
  const auto options = ctx_.live.get();
  FilterList parsed = parse_filter_elements(msg, 2, options->max_filters);
  handle_close(sub_id);  // a REQ with a live subscription id replaces it (even when the new one is refused)
  if (parsed.error) {
    ++ctx_.metrics.invalid_messages;
    return send(closed_message(sub_id, *parsed.error));
  }
  forget_closed();
  if (subs_.size() >= options->max_subscriptions) {
    ++ctx_.metrics.refused_caps;
    return send(closed_message(sub_id, "blocked: too many open subscriptions (at most " +
                                           std::to_string(options->max_subscriptions) + ")"));
  }
  auto sub = std::make_shared<Subscription>();
  sub->id = std::string(sub_id);
  sub->filters = std::move(parsed.filters);
  sub->session = ws_;
  ++ctx_.metrics.reqs;
  ServerContext& ctx = ctx_;
  const auto step = [&ctx, sub, progress = ReqProgress{}, started = false](WorkerContext& w) mutable {
    return req_slice(ctx, sub, progress, started, w);
  };
  const bool small = max_answer_events(sub->filters, options->limits) <= kSmallReqEvents;
  if (!ctx_.pool.try_submit_sliced(step, small)) {
    ++ctx_.metrics.refused_busy;
    return send(closed_message(sub_id, "error: server busy, try again later"));
  }
  subs_.emplace(sub->id, sub);
  ++ctx_.metrics.open_subscriptions;
}

void RelaySession::handle_count(simdjson::dom::array msg, std::string_view sub_id) {
  FilterList parsed = parse_filter_elements(msg, 2, ctx_.live.get()->max_filters);
  if (parsed.error) {
    ++ctx_.metrics.invalid_messages;
    return send(closed_message(sub_id, *parsed.error));
  }
  auto sub = std::make_shared<Subscription>();
  sub->id = std::string(sub_id);
  sub->filters = std::move(parsed.filters);
  sub->session = ws_;
  ++ctx_.metrics.counts;
  ServerContext& ctx = ctx_;
  auto step = [&ctx, sub, progress = CountProgress{}](WorkerContext& w) mutable {
    return count_slice(ctx, sub, progress, w);
  };
  if (!ctx_.pool.try_submit_sliced(std::move(step))) {
    ++ctx_.metrics.refused_busy;
    send(closed_message(sub_id, "error: server busy, try again later"));
  }
}

void RelaySession::handle_close(std::string_view sub_id) {
  const auto it = subs_.find(sub_id);
  if (it == subs_.end()) return;
  if (!it->second->closed.exchange(true)) --ctx_.metrics.open_subscriptions;
  subs_.erase(it);
}

void RelaySession::handle_event(simdjson::dom::array msg) {
  std::string_view id;
  simdjson::dom::object ev;
  if (msg.size() >= 2 && !msg.at(1).get_object().get(ev) && ev["id"].get_string().get(id)) id = {};
  send(ok_message(id, false, "blocked: read-only archive"));
}

}  // namespace pb::serve
