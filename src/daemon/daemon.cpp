#include "daemon/daemon.hpp"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <future>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>

#include "base/thread_name.hpp"
#include "daemon/archive_sink.hpp"
#include "daemon/config_values.hpp"
#include "daemon/discovery.hpp"
#include "daemon/http_api.hpp"
#include "daemon/relay_manager.hpp"
#include "daemon/s3_pusher.hpp"
#include "daemon/stop_signal.hpp"
#include "daemon/verifier_pool.hpp"
#include "net/http_server.hpp"
#include "net/tls_context.hpp"
#include "nostr/hex.hpp"

namespace pb::daemon {
namespace asio = boost::asio;
namespace {

Filter subscription_filter(const DaemonConfig& cfg) {
  Filter f;
  if (!cfg.kinds.empty()) f.kinds = cfg.kinds;
  if (!cfg.authors.empty()) {
    std::vector<Id32> authors(cfg.authors.size());
    for (std::size_t i = 0; i < authors.size(); ++i) decode_lower_hex(cfg.authors[i], authors[i]);
    std::sort(authors.begin(), authors.end());
    f.authors = std::move(authors);
  }
  return f;
}

// Opens the archive (taking its writer lock) or explains why not.
std::unique_ptr<ArchiveWriter> open_archive(const DaemonConfig& cfg) {
  ArchiveWriterOptions opts;
  opts.compression_level = cfg.compression_level;
  opts.fsync = cfg.fsync;
  try {
    std::filesystem::create_directories(cfg.output_dir);
    auto writer = std::make_unique<ArchiveWriter>(cfg.output_dir, opts);
    writer->commit();  // workers read the index through their own connections: make sure it has a schema
    return writer;
  } catch (const std::exception& e) {
    fmt::print(stderr,
               "proton-beam-daemon: cannot open the archive {}: {}\n"
               "  (only one process may write an archive at a time: stop the other proton-beam-daemon, convert\n"
               "   or merge using it, or give this daemon another --output-dir)\n",
               cfg.output_dir.string(), e.what());
    return nullptr;
  }
}

DiscoverySettings discovery_settings(const DaemonConfig& cfg) {
  DiscoverySettings s;
  s.db_path = cfg.output_dir / "discovery.db";
  s.max_relays = cfg.max_relays;
  s.allow_private = cfg.allow_private_addresses;
  s.interval = std::chrono::milliseconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(cfg.discovery_interval * 1000)));
  s.connects_per_minute = cfg.discovery_connects_per_minute;
  return s;
}

// Everything that lives on the io thread.
struct IoSide {
  IoSide(asio::io_context& io, const DaemonConfig& cfg, WorkQueue<InboundEvent>& events, DaemonLog& log, Counters& global,
         std::map<std::string, std::int64_t> cursors, DiscoveryFeed* feed)
      : ctx{io, cfg, net::make_client_tls_context({cfg.ca_file, true}), events, log, global, subscription_filter(cfg),
            {}, 0, 0, {}, {}, {}},
        manager(std::make_shared<RelayManager>(ctx, std::move(cursors))) {
    ctx.info = std::make_shared<RelayInfoCache>(io, ctx.tls, log, std::chrono::milliseconds(cfg.connect_timeout_ms));
    if (!feed) return;
    discovery = std::make_shared<Discovery>(io, *manager, *feed, log, discovery_settings(cfg));
    ctx.admit = [weak = std::weak_ptr<Discovery>(discovery)](const std::string& url, std::vector<asio::ip::address>& a) {
      auto d = weak.lock();
      return d ? d->admit(url, a) : std::nullopt;
    };
    ctx.admit_info = [weak = std::weak_ptr<Discovery>(discovery)](const std::string& url, const RelayInfo& info) {
      auto d = weak.lock();
      return d ? d->admit_info(url, info) : std::nullopt;
    };
  }
  RelayContext ctx;
  std::shared_ptr<RelayManager> manager;
  std::shared_ptr<Discovery> discovery;  // null with --no-discovery
};

void write_ready_file(const std::string& path, std::uint16_t port) {
  if (path.empty()) return;
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << port << "\n";
  std::filesystem::rename(tmp, path);
}

}  // namespace

int run_daemon(const DaemonConfig& cfg, const std::vector<std::string>& args, const EnvLookup& env) {
  // S3 first: a mistake there (no credentials, a bad endpoint) is a configuration error, found before
  // anything is opened.
  const s3::EnvLookup aws_env = [env](const char* name) { return env(name); };
  std::optional<S3PushSetup> s3_setup;
  if (!cfg.s3_output.empty()) {
    try {
      s3_setup = s3_push_setup(cfg, aws_env);
    } catch (const std::exception& e) {
      fmt::print(stderr, "proton-beam-daemon: --s3-output {}: {}\n", cfg.s3_output, e.what());
      return 2;
    }
  }
  auto writer = open_archive(cfg);
  if (!writer) return 1;
  const auto cursors = writer->index().relay_cursors();
  const auto index_path = writer->index_path();
  DaemonLog log(cfg.output_dir, cfg.verbose);
  for (const auto& action : writer->recovery().actions) log.info("recovery: " + action);

  Counters global;
  SinkStatus status;
  StopSignal stop;
  WorkQueue<InboundEvent> events(cfg.queue_events, cfg.queue_mib << 20);
  WorkQueue<CheckedEvent> checked(cfg.queue_events, cfg.queue_mib << 20);
  SeenIds seen;
  // Discovery's hand-over from the writer (stored events' relay hints) to the io thread.
  std::unique_ptr<DiscoveryFeed> feed = cfg.discovery ? std::make_unique<DiscoveryFeed>() : nullptr;
  const auto interval = std::chrono::milliseconds(static_cast<std::int64_t>(cfg.batch_interval * 1000));
  ArchiveSink sink(std::move(writer), cfg.batch_size, interval, checked, seen, log, status, [&] { stop.request(true); },
                   std::chrono::milliseconds(cfg.commit_gap_ms));
  // Held by an S3 push while it reads committed bytes; compaction, which replaces them, waits for it.
  std::mutex compaction_gate;
  if (cfg.compaction) sink.enable_compaction(cfg.compact_grace, &compaction_gate, cfg.compact_sort_by_time);
  sink.feed_discovery(feed.get());
  const unsigned workers = cfg.workers ? cfg.workers : std::max(1u, std::thread::hardware_concurrency());
  S3PushStatus s3_status;
  std::unique_ptr<S3Pusher> pusher;
  if (s3_setup) {
    log.info(fmt::format("S3: pushing to {} now, every {} s and at shutdown", cfg.s3_output, cfg.s3_interval));
    pusher = std::make_unique<S3Pusher>(std::move(*s3_setup), aws_env, compaction_gate, status.failed, log, s3_status);
  }
  VerifierPool pool({index_path, subscription_filter(cfg), {true, cfg.validate_signatures}, workers, cfg.discovery}, events,
                    checked, seen, log);

  asio::io_context io(1);
  auto guard = asio::make_work_guard(io);
  std::unique_ptr<IoSide> side;
  std::unique_ptr<net::HttpServer> http;
  asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  try {
    side = std::make_unique<IoSide>(io, cfg, events, log, global, cursors, feed.get());
    HttpApiState api{global, status, *side->manager, interval, side->discovery.get(), pusher ? &s3_status : nullptr,
                     side->ctx.info.get()};
    net::HttpServerHandlers handlers;
    handlers.on_request = [api](const net::Request& req, net::Responder r) { r.respond(handle_http(api, req)); };
    http = std::make_unique<net::HttpServer>(io, net::HttpServerOptions{}, std::move(handlers));
    const auto [host, port] = split_listen(cfg.listen);
    const auto bound = http->listen(host, port);
    log.info(fmt::format("started: archive {}, HTTP on {}:{}, {} relays, {} workers", cfg.output_dir.string(), host, bound,
                         effective_relays(cfg).size(), workers));
    std::weak_ptr<RelayManager> weak = side->manager;
    events.on_room([&io, weak] { asio::post(io, [weak] { if (auto m = weak.lock()) m->resume_paused(); }); });
    side->manager->set_relays(effective_relays(cfg));
    if (side->discovery) side->discovery->start();
    write_ready_file(cfg.ready_file, bound);
  } catch (const std::exception& e) {
    fmt::print(stderr, "proton-beam-daemon: {}\n", e.what());
    stop.request(true);
  }

  std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      auto r = load_config(args, env);
      if (!r.error.empty()) log.error("SIGHUP: configuration not reloaded: " + r.error);
      else if (side) {
        log.info("SIGHUP: reloading the relay list (other settings need a restart)");
        side->manager->set_relays(effective_relays(r.config));
      }
    } else if (!stop.request(false)) {
      log.warn("second signal: exiting at once (uncommitted events are fetched again on the next start)");
      std::_Exit(128 + sig);
    } else {
      log.info(fmt::format("signal {}: stopping (committing everything received)", sig));
    }
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  std::thread io_thread([&io] {
    name_this_thread("pb-io");
    io.run();
  });

  stop.wait();
  if (pusher) pusher->stop_periodic();  // the next push is the final one, after the last commit
  // 1. Stop reading; the events the relays had read but not queued come back to be queued here.
  std::promise<std::vector<InboundEvent>> held;
  asio::post(io, [&] {
    if (http) http->stop();
    if (side && side->discovery) side->discovery->shutdown();  // saves the candidates' last figures
    held.set_value(side ? side->manager->stop_all() : std::vector<InboundEvent>{});
  });
  for (auto& ev : held.get_future().get()) events.push(std::move(ev));
  // 2. Drain the workers and the writer (its last commit holds everything received).
  events.close();
  pool.join();
  checked.close();
  sink.join();
  // 3. Tear down the io side on its thread, then stop it.
  std::promise<void> torn;
  asio::post(io, [&] {
    http.reset();
    side.reset();
    torn.set_value();
  });
  torn.get_future().wait();
  guard.reset();
  io.stop();
  io_thread.join();
  // 4. The last S3 push, of everything committed (bounded: past the budget it is cancelled).
  if (pusher) {
    pusher->final_push(std::chrono::milliseconds(static_cast<std::int64_t>(cfg.s3_shutdown_timeout * 1000)));
    pusher.reset();
  }
  const bool failed = stop.failed() || status.failed;
  log.info(fmt::format("stopped: {} stored, {} duplicates, {} invalid{}", global.stored.load(), global.duplicates.load(),
                       global.invalid.load(), failed ? " (after a failure)" : ""));
  return failed ? 1 : 0;
}

}  // namespace pb::daemon
