#include "serve/server.hpp"

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <fstream>
#include <memory>
#include <stop_token>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "archive/committed_files.hpp"
#include "base/thread_name.hpp"
#include "net/http_server.hpp"
#include "serve/deletion_targets.hpp"
#include "serve/http_api.hpp"
#include "serve/live_tail.hpp"
#include "serve/reload.hpp"
#include "serve/relay_session.hpp"

namespace pb::serve {
namespace {

constexpr std::size_t kQueueCapacity = 4096;
constexpr std::chrono::seconds kStatsTtl{10};

net::HttpServerOptions http_options(const ServeOptions& o) {
  net::HttpServerOptions h;
  h.max_connections = o.max_connections;
  h.body_limit = o.max_message_bytes;
  h.ws_read_message_max = o.max_message_bytes;
  h.ws_max_pending_send_bytes = o.max_pending_output;
  h.server_name = "proton-beam";
  return h;
}

constexpr std::size_t kScanCacheKiB = 8 * 1024;

void build_deletion_targets(const ServeOptions& options, MemberCache& cache, DeletionTargets& deletions,
                            std::stop_token stop) {
  try {
    // A scan of every row once: a small page cache, and members read past the shared caches.
    ArchiveIndex index = ArchiveIndex::open(options.dir / "index.db", ArchiveIndex::Mode::read_only, kScanCacheKiB);
    const auto load = [&](const IndexRow& row) -> std::optional<Event> {
      if (auto ev = cache.get_uncached(row.file_name, row.member_offset)->find(row.id)) return ev;
      const auto fresh = index.get(row.id);  // compaction may have moved it since the row was read
      if (!fresh) return std::nullopt;
      return cache.get_uncached(fresh->file_name, fresh->member_offset)->find(row.id);
    };
    deletions.build(index, index.last_seq(), load, stop);
  } catch (const std::exception& e) {
    spdlog::warn("serve: deletion set not built ({}): deletions are checked in the index only", e.what());
  }
}

// Copies new and changed day files until stopped (the first pass copies the whole archive).
void keep_inflated_copy(InflatedCopy& copy, std::uint32_t every_s, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any wake;
  bool first = true;
  while (!stop.stop_requested()) {
    try {
      const auto start = std::chrono::steady_clock::now();
      const std::size_t copied = copy.refresh(stop);
      if (first || copied > 0) {
        const auto s = copy.stats();
        spdlog::info("serve: inflated copy: {} day file(s) copied in {:.1f} s; {} file(s), {} MB", copied,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), s.files,
                     s.bytes / 1000000);
      }
    } catch (const std::exception& e) {
      spdlog::warn("serve: inflated copy not refreshed ({}): misses inflate the day files", e.what());
    }
    first = false;
    std::unique_lock lock(mu);
    wake.wait_for(lock, stop, std::chrono::seconds(every_s), [] { return false; });
  }
}

// SIGHUP: the options read again; the reloadable ones take effect for requests and queries that start
// from now on, the others are reported and keep their values until a restart.
void reload_options(const OptionsLoader& reload, LiveOptions& live, RateLimiter& limiter, Metrics& metrics) {
  if (!reload) {
    spdlog::warn("serve: SIGHUP: no way to reload the options here; ignored");
    return;
  }
  auto loaded = reload();
  if (auto* error = std::get_if<std::string>(&loaded)) {
    ++metrics.config_reload_errors;
    spdlog::error("serve: SIGHUP: options not reloaded, the running ones stay: {}", *error);
    return;
  }
  const ReloadPlan plan = plan_reload(*live.get(), std::get<ServeOptions>(loaded));
  for (const auto& change : plan.need_restart) spdlog::warn("serve: SIGHUP: {}", change);
  limiter.set_per_minute(plan.next.rate_limit_per_minute);
  live.set(plan.next);
  ++metrics.config_reloads;
  if (plan.applied.empty()) spdlog::info("serve: SIGHUP: options reloaded, nothing that applies live changed");
  for (const auto& change : plan.applied) spdlog::info("serve: SIGHUP: {}", change);
}

void write_ready_file(const std::filesystem::path& path, std::uint16_t port) {
  if (path.empty()) return;
  const auto tmp = path.string() + ".tmp";
  std::ofstream(tmp) << port << "\n";
  std::filesystem::rename(tmp, path);
}

}  // namespace

int run_server(const ServeOptions& options, const std::function<void(std::uint16_t)>& on_listening,
               const OptionsLoader& reload) {
  boost::asio::io_context io(static_cast<int>(options.net_threads));
  MemberCache cache(options.dir, options.cache_bytes, options.event_cache_bytes);
  std::unique_ptr<InflatedCopy> copy;
  if (!options.inflated_copy.empty()) {
    copy = std::make_unique<InflatedCopy>(options.dir, options.inflated_copy);
    cache.use_inflated_copy(copy.get());
  }
  Metrics metrics;
  LiveOptions live(options);
  RateLimiter limiter(options.rate_limit_per_minute);
  // Default mode only: --history serves deleted events too.
  std::unique_ptr<DeletionTargets> deletions = options.limits.history ? nullptr : std::make_unique<DeletionTargets>();
  WorkerPool pool(options, live, cache, kQueueCapacity, deletions.get());
  LiveTail tail(options, cache, metrics, deletions.get());
  ServerContext ctx{options, live, pool, cache, metrics, limiter, &tail, deletions.get()};
  std::jthread deletion_build;  // stopped and joined first (declared last): it reads through the cache
  if (deletions)
    deletion_build = std::jthread([&](std::stop_token stop) {
      name_this_thread("pb-deletions");
      build_deletion_targets(options, cache, *deletions, stop);
    });
  std::jthread copy_keeper;  // stopped and joined before the cache that reads the copy
  if (copy)
    copy_keeper = std::jthread([&](std::stop_token stop) {
      name_this_thread("pb-copy");
      keep_inflated_copy(*copy, options.inflated_copy_refresh_s, stop);
    });
  StatsCache stats(options.dir, kStatsTtl);

  std::unique_ptr<HttpApi> api;
  net::HttpServerHandlers handlers;
  handlers.on_request = [&api](const net::Request& req, net::Responder r) { api->handle(req, std::move(r)); };
  handlers.accept_websocket = [](const net::Request& req) { return req.path == "/"; };
  handlers.on_websocket = [&ctx](std::shared_ptr<net::WsServerSession> ws) { RelaySession::attach(ws, ctx); };
  net::HttpServer server(io, http_options(options), std::move(handlers));
  api = std::make_unique<HttpApi>(ctx, stats, &server);

  // Signals are handled from before the ready file exists: a SIGHUP then must not end the process.
  boost::asio::signal_set hangups(io, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_hangup = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    reload_options(reload, live, limiter, metrics);
    hangups.async_wait(on_hangup);
  };
  hangups.async_wait(on_hangup);
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    spdlog::info("serve: stopping");
    hangups.cancel();
    server.stop();
  });
  std::signal(SIGPIPE, SIG_IGN);

  const std::uint16_t port = server.listen(options.host, options.port);
  spdlog::info("serve: listening on {}:{} (archive {})", options.host, port, options.dir.string());
  write_ready_file(options.ready_file, port);
  if (on_listening) on_listening(port);

  std::vector<std::jthread> more_net;
  for (std::size_t i = 1; i < options.net_threads; ++i)
    more_net.emplace_back([&io] {
      name_this_thread("pb-net");
      io.run();
    });
  name_this_thread("pb-net");
  io.run();
  more_net.clear();  // joins them
  tail.stop();
  pool.stop();
  return 0;
}

}  // namespace pb::serve
