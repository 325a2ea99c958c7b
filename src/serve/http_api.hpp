// The HTTP side of `serve`: NIP-11 and the web page on GET /, the REST API under /api/v1, /metrics and
// /health. Runs on the connection's strand; queries go to the worker pool, which completes the Responder.
#pragma once

#include <functional>
#include <string>

#include "net/http_server.hpp"
#include "net/http_types.hpp"
#include "serve/server_context.hpp"
#include "serve/stats_cache.hpp"

namespace pb::serve {

class HttpApi {
 public:
  HttpApi(ServerContext& ctx, StatsCache& stats, const net::HttpServer* server)
      : ctx_(ctx), stats_(stats), server_(server) {}
  void handle(const net::Request& req, net::Responder responder);

 private:
  net::Response route(const net::Request& req, const net::Responder& responder, bool& async);
  net::Response post_req(const net::Request& req, const net::Responder& responder, bool& async, bool count);
  net::Response get_events(const net::Request& req, const net::Responder& responder, bool& async);
  net::Response get_event(const std::string& id_hex, const net::Responder& responder, bool& async);
  net::Response get_stats(const net::Responder& responder, bool& async);
  net::Response metrics() const;
  void add_cors(net::Response& r) const;
  // Queues `job` (which completes `responder`); a 503 when the queue is full.
  net::Response submit(const net::Responder& responder, bool& async, Job job);
  // A job run in slices (worker_pool.hpp): REQ, COUNT and REST pages.
  net::Response submit_sliced(bool& async, std::function<bool(WorkerContext&)> step);

  ServerContext& ctx_;
  StatsCache& stats_;
  const net::HttpServer* server_;
};

net::Response json_error(int status, const std::string& message);

}  // namespace pb::serve
