// `proton-beam serve`: the archive as a read-only Nostr relay, REST API and web page (docs/serve.md).
#include <charconv>
#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "serve/inflated_copy.hpp"
#include "serve/server.hpp"

namespace pb::cli {
namespace {

struct ServeArgs {
  pb::serve::ServeOptions opt;
  std::string dir = "pb_data";
  std::string listen = "127.0.0.1:7447";
  std::string ready_file;
};

bool split_listen(const std::string& text, std::string& host, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const char* b = text.data() + colon + 1;
  const char* e = text.data() + text.size();
  unsigned v = 0;
  const auto r = std::from_chars(b, e, v);
  if (r.ec != std::errc() || r.ptr != e || v > 65535) return false;
  port = static_cast<std::uint16_t>(v);
  return true;
}

int run(ServeArgs& a) {
  a.opt.dir = a.dir;
  a.opt.ready_file = a.ready_file;
  if (!split_listen(a.listen, a.opt.host, a.opt.port)) {
    std::fprintf(stderr, "proton-beam serve: --listen: expected HOST:PORT, got '%s'\n", a.listen.c_str());
    return kExitUsage;
  }
  if (!a.opt.inflated_copy.empty() && pb::serve::InflatedCopy::inside_archive(a.opt.dir, a.opt.inflated_copy)) {
    std::fprintf(stderr, "proton-beam serve: --inflated-copy %s is inside the archive %s: name a folder outside it\n",
                 a.opt.inflated_copy.c_str(), a.opt.dir.c_str());
    return kExitUsage;
  }
  if (a.opt.limits.default_limit > a.opt.limits.max_limit) a.opt.limits.default_limit = a.opt.limits.max_limit;
  return pb::serve::run_server(a.opt);
}

}  // namespace

CommandRunner register_serve(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  auto& o = a->opt;
  CLI::App* cmd = app.add_subcommand("serve", "Serve the archive as a read-only Nostr relay, REST API and web page");
  cmd->description(
      "Serve an archive on one port: a read-only NIP-01 relay (REQ/CLOSE/COUNT, live tail of events committed\n"
      "later), NIP-11 on GET / with Accept: application/nostr+json, a REST API under /api/v1 (req, count,\n"
      "events, events/ID, stats), /metrics, /health, and a web page on GET / for browsers. By default only\n"
      "current events are served (latest replaceable/addressable versions, no deleted or expired events);\n"
      "--history serves every stored event. See docs/serve.md. Stops cleanly on SIGTERM/SIGINT.");
  cmd->add_option("dir", a->dir, "Archive directory")->capture_default_str()->type_name("DIR");
  cmd->add_option("--listen", a->listen, "Address to listen on (port 0: any free port)")->capture_default_str();
  cmd->add_option("--ready-file", a->ready_file, "Write the bound port to FILE once listening")->type_name("FILE");
  cmd->add_option("--max-limit", o.limits.max_limit, "Largest limit a filter may use (larger are clamped)")
      ->capture_default_str();
  cmd->add_option("--default-limit", o.limits.default_limit, "Limit of a filter without one")->capture_default_str();
  cmd->add_option("--max-subscriptions", o.max_subscriptions, "Open subscriptions per connection")
      ->capture_default_str();
  cmd->add_option("--max-filters", o.max_filters, "Filters per REQ/COUNT/REST request")->capture_default_str();
  cmd->add_option("--max-connections", o.max_connections, "Open HTTP + WebSocket connections")->capture_default_str();
  cmd->add_option("--max-message-bytes", o.max_message_bytes, "Largest WebSocket message / HTTP body")
      ->capture_default_str();
  cmd->add_option("--max-output-bytes", o.max_pending_output,
                  "Queued output per WebSocket; a client that lets more pile up is disconnected")
      ->capture_default_str();
  cmd->add_option("--work-budget", o.limits.work_budget_rows, "Index rows one query may examine")->capture_default_str();
  cmd->add_option("--rate-limit", o.rate_limit_per_minute, "Requests per minute per IP address (0: off)")
      ->capture_default_str();
  cmd->add_option("--workers", o.workers, "Query threads")->capture_default_str();
  cmd->add_option("--net-threads", o.net_threads,
                  "Threads running the connections (reading, framing, sending); one is best on 2 cores, where a "
                  "second cost ~10% more CPU per query in thread hand-offs")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--slice-ms", o.slice_ms,
                  "A REQ runs at most this long before yielding its worker to queued queries (0: every 16 index rows)")
      ->capture_default_str();
  cmd->add_option("--first-slice-ms", o.first_slice_ms,
                  "A new REQ's first slice; new queries run before started ones, so cheap ones are not kept "
                  "waiting behind broad scans")
      ->capture_default_str();
  cmd->add_option("--cache-bytes", o.cache_bytes, "Decoded-member cache size in bytes")->capture_default_str();
  cmd->add_option("--event-cache-bytes", o.event_cache_bytes,
                  "Cache of single events read from members that were not cached (once full: those asked for twice; 0: off)")
      ->capture_default_str();
  cmd->add_option("--index-mmap-mib", o.index_mmap_mib,
                  "Query threads read index.db through a memory map of up to this many MiB (0: off): ~15% less "
                  "CPU per query on the benchmark, but an I/O error on index.db then ends serve (SIGBUS) "
                  "instead of failing the query")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--inflated-copy", o.inflated_copy,
                  "Keep an uncompressed copy of the day files in this folder (outside the archive; about twice "
                  "their size) and read cache misses from it instead of inflating them");
  cmd->add_option("--inflated-copy-refresh-s", o.inflated_copy_refresh_s,
                  "How often new or changed day files are copied")
      ->check(CLI::Range(1u, 86400u))
      ->capture_default_str();
  cmd->add_option("--tail-poll-ms", o.tail_poll_ms, "Live tail: how often the index is polled")->capture_default_str();
  cmd->add_flag("--history", o.limits.history, "Serve every stored event (no replaceable/deletion/expiry rules)");
  cmd->add_option("--name", o.name, "NIP-11 name")->capture_default_str();
  cmd->add_option("--description", o.description, "NIP-11 description")->capture_default_str();
  cmd->add_option("--contact", o.contact, "NIP-11 contact");
  cmd->add_option("--pubkey", o.pubkey, "NIP-11 pubkey (64 hex)");
  cmd->add_option("--cors-origin", o.cors_origin, "Access-Control-Allow-Origin value")->capture_default_str();
  return [a] { return run(*a); };
}

}  // namespace pb::cli
