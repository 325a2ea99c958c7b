#include "serve/http_api.hpp"

#include <chrono>
#include <optional>
#include <utility>

#include <simdjson.h>

#include "nostr/hex.hpp"
#include "serve/filter_list.hpp"
#include "serve/nip11.hpp"
#include "serve/query_string_filter.hpp"
#include "serve/web_page.hpp"
#include "serve/wire.hpp"

namespace pb::serve {

using net::Request;
using net::Responder;
using net::Response;

net::Response json_error(int status, const std::string& message) {
  std::string body = "{\"error\":";
  append_json_string(body, message);
  body += "}";
  return Response::json(status, std::move(body));
}

namespace {

bool accepts_nostr_json(const Request& req) {
  const auto accept = req.header("Accept");
  return accept && accept->find("application/nostr+json") != std::string_view::npos;
}

// The answer as JSONL (each event's text ends with its newline), sent in pieces of ~256 KiB as the
// connection takes them (net::BodySource): a client that reads slowly holds back the copying, and each
// event's text is freed once copied out.
net::BodySource jsonl_source(std::vector<ServedEvent> events) {
  return [events = std::move(events), next = std::size_t{0}](std::string& piece) mutable {
    constexpr std::size_t kPieceBytes = 256 * 1024;
    piece.reserve(kPieceBytes + kPieceBytes / 4);
    for (; next < events.size() && piece.size() < kPieceBytes; ++next) {
      piece += events[next].text;
      std::string().swap(events[next].text);
    }
    return next < events.size();
  };
}

// Runs one slice of a query job's body (which returns nothing while the query is unfinished), answering a
// budget overrun with 422 and any other failure with 500. True once an answer was sent.
template <class F>
bool answer_slice(ServerContext& ctx, const Responder& r, F&& body) {
  try {
    std::optional<Response> done = body();
    if (!done) return false;
    r.respond(std::move(*done));
  } catch (const BudgetExceeded& e) {
    ++ctx.metrics.refused_budget;
    r.respond(json_error(422, std::string("error: ") + e.what()));
  } catch (const std::exception& e) {
    r.respond(json_error(500, std::string("error: ") + e.what()));
  }
  return true;
}

template <class F>
void answer(ServerContext& ctx, const Responder& r, F&& body) {
  answer_slice(ctx, r, [&]() -> std::optional<Response> { return body(); });
}

}  // namespace

void HttpApi::add_cors(Response& r) const {
  r.headers.emplace_back("Access-Control-Allow-Origin", ctx_.live.get()->cors_origin);
  r.headers.emplace_back("Access-Control-Allow-Headers", "*");
  r.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
}

void HttpApi::handle(const Request& req, Responder responder) {
  ++ctx_.metrics.http_requests;
  bool async = false;
  // The worker completes the responder through a copy that adds the CORS headers.
  struct CorsSink : net::detail::ResponseSink {
    Responder inner;
    const HttpApi* api;
    CorsSink(Responder r, const HttpApi* a) : inner(std::move(r)), api(a) {}
    void complete(Response r) override {
      api->add_cors(r);
      inner.respond(std::move(r));
    }
  };
  Responder with_cors(std::make_shared<CorsSink>(responder, this));
  Response r = route(req, with_cors, async);
  if (!async) with_cors.respond(std::move(r));
}

Response HttpApi::submit(const Responder& responder, bool& async, Job job) {
  if (!ctx_.pool.try_submit(std::move(job))) {
    ++ctx_.metrics.refused_busy;
    return json_error(503, "error: server busy, try again later");
  }
  async = true;
  (void)responder;
  return {};
}

Response HttpApi::submit_sliced(bool& async, std::function<bool(WorkerContext&)> step) {
  if (!ctx_.pool.try_submit_sliced(std::move(step))) {
    ++ctx_.metrics.refused_busy;
    return json_error(503, "error: server busy, try again later");
  }
  async = true;
  return {};
}

Response HttpApi::route(const Request& req, const Responder& responder, bool& async) {
  const std::string& p = req.path;
  if (req.method == "OPTIONS") return Response::text(204, "");
  if (p == "/health") return Response::text(200, "ok\n");
  if (p == "/metrics") return metrics();
  if (p == "/" && req.method == "GET") {
    if (accepts_nostr_json(req)) {
      Response r = Response::json(200, nip11_document(*ctx_.live.get()));
      r.content_type = "application/nostr+json";
      return r;
    }
    Response r = Response::text(200, std::string(web_page_html()));
    r.content_type = "text/html; charset=utf-8";
    r.headers.emplace_back("Content-Security-Policy", std::string(web_page_csp()));
    return r;
  }
  if (!p.starts_with("/api/v1/")) return json_error(404, "not found");
  if (!ctx_.limiter.allow(req.remote_address)) {
    ++ctx_.metrics.refused_rate;
    return json_error(429, "rate-limited: too many requests from your address, slow down");
  }
  if (p == "/api/v1/req" || p == "/api/v1/count") {
    if (req.method != "POST") return json_error(405, "use POST with a JSON array of filters");
    return post_req(req, responder, async, p == "/api/v1/count");
  }
  if (req.method != "GET") return json_error(405, "use GET");
  if (p == "/api/v1/events") return get_events(req, responder, async);
  if (p.starts_with("/api/v1/events/")) return get_event(p.substr(15), responder, async);
  if (p == "/api/v1/stats") return get_stats(responder, async);
  return json_error(404, "not found");
}

Response HttpApi::post_req(const Request& req, const Responder& responder, bool& async, bool count) {
  simdjson::dom::parser parser;
  FilterList parsed = parse_filter_array_json(parser, req.body, ctx_.live.get()->max_filters);
  if (parsed.error) return json_error(400, *parsed.error);
  ServerContext& ctx = ctx_;
  if (count) ++ctx_.metrics.counts; else ++ctx_.metrics.reqs;
  if (count) {
    auto step = [&ctx, responder, filters = std::move(parsed.filters), progress = CountProgress{}](
                    WorkerContext& w) mutable {
      return answer_slice(ctx, responder, [&]() -> std::optional<Response> {
        const auto deadline = std::chrono::steady_clock::now() + w.slice;
        if (!w.engine.count_step(filters, progress, deadline)) return std::nullopt;
        return Response::json(200, "{\"count\":" + std::to_string(progress.count) + "}");
      });
    };
    return submit_sliced(async, std::move(step));
  }
  ReqProgress progress;
  progress.frame.after = "\n";
  auto step = [&ctx, responder, filters = std::move(parsed.filters), progress = std::move(progress)](
                  WorkerContext& w) mutable {
    return answer_slice(ctx, responder, [&]() -> std::optional<Response> {
      const auto deadline = std::chrono::steady_clock::now() + w.slice;
      if (!w.engine.req_step(filters, progress, deadline)) return std::nullopt;
      ctx.metrics.events_sent += progress.events.size();
      Response r = Response::text(200, "");
      r.content_type = "application/x-ndjson";
      r.source = jsonl_source(std::move(progress.events));
      return r;
    });
  };
  return submit_sliced(async, std::move(step));
}

Response HttpApi::get_events(const Request& req, const Responder& responder, bool& async) {
  QueryStringFilter q = filter_from_query(req.query);
  if (q.error) return json_error(400, *q.error);
  ServerContext& ctx = ctx_;
  ++ctx_.metrics.reqs;
  PageProgress progress;
  progress.scan.after = q.cursor;
  auto step = [&ctx, responder, q = std::move(q), progress = std::move(progress)](WorkerContext& w) mutable {
    return answer_slice(ctx, responder, [&]() -> std::optional<Response> {
      const std::uint64_t limit = w.engine.effective_limit(q.filter);
      const auto deadline = std::chrono::steady_clock::now() + w.slice;
      if (!w.engine.page_step(q.filter, limit, progress, deadline)) return std::nullopt;
      const std::vector<ServedEvent>& events = progress.events;
      ctx.metrics.events_sent += events.size();
      std::string body = "{\"events\":[";
      for (std::size_t i = 0; i < events.size(); ++i) {
        if (i) body += ',';
        body += events[i].text;
      }
      body += "],\"next\":";
      if (limit > 0 && events.size() == limit)
        append_json_string(body, cursor_text({events.back().created_at, events.back().id}));
      else
        body += "null";
      return Response::json(200, body + "}");
    });
  };
  return submit_sliced(async, std::move(step));
}

Response HttpApi::get_event(const std::string& id_hex, const Responder& responder, bool& async) {
  Id32 id{};
  if (!decode_lower_hex(id_hex, id)) return json_error(400, "invalid: the id must be 64 lowercase hex characters");
  ServerContext& ctx = ctx_;
  return submit(responder, async, [&ctx, responder, id](WorkerContext& w) {
    answer(ctx, responder, [&] {
      Filter f;
      f.ids = std::vector<Id32>{id};
      auto events = w.engine.page(f, 1, std::nullopt);
      if (events.empty()) return json_error(404, "not found");
      return Response::json(200, std::move(events.front().text));
    });
  });
}

Response HttpApi::get_stats(const Responder& responder, bool& async) {
  StatsCache& stats = stats_;
  ServerContext& ctx = ctx_;
  return submit(responder, async, [&ctx, &stats, responder](WorkerContext&) {
    answer(ctx, responder, [&] { return Response::json(200, stats.get()); });
  });
}

Response HttpApi::metrics() const {
  ExtraGauges g;
  const auto cs = ctx_.cache.stats();
  g.cache_hits = cs.hits;
  g.cache_misses = cs.misses;
  g.cache_bytes = cs.bytes;
  const auto es = ctx_.cache.events().stats();
  g.event_cache_hits = es.hits;
  g.event_cache_admitted = es.admitted;
  g.event_cache_bytes = es.bytes;
  if (ctx_.deletions) {
    const auto ds = ctx_.deletions->stats();
    g.deletion_set_ready = ds.ready ? 1 : 0;
    g.deletion_set_keys = ds.keys;
    g.deletion_checks_cleared = ds.cleared;
  }
  if (const auto* copy = ctx_.cache.inflated_copy()) {
    const auto s = copy->stats();
    g.copy_reads = s.reads;
    g.copy_fallbacks = s.fallbacks;
    g.copy_files = s.files;
    g.copy_bytes = s.bytes;
    g.copy_refreshes = s.refreshes;
    g.copy_members = s.members_copied;
  }
  g.queued_jobs = ctx_.pool.queued();
  if (server_) g.connections = server_->stats().active;
  Response r = Response::text(200, metrics_text(ctx_.metrics, g));
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

}  // namespace pb::serve
