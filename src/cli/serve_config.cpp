#include "cli/serve_config.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "serve/inflated_copy.hpp"

namespace pb::cli {
namespace {

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

std::optional<std::string> scalar_text(const toml::node& n) {
  if (auto s = n.as_string()) return s->get();
  if (auto b = n.as_boolean()) return std::string(b->get() ? "true" : "false");
  if (auto i = n.as_integer()) return std::to_string(i->get());
  return std::nullopt;
}

// The option a file key names: the long option with '_' or '-' between words, or the archive folder.
CLI::Option* option_for_key(CLI::App& app, std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  if (key == "config" || key == "help") return nullptr;  // a file naming another file: not supported
  if (key == "dir") return app.get_option_no_throw("dir");
  return app.get_option_no_throw("--" + key);
}

// Adds the file's values to the options the command line left out; `where` gets "FILE line N" per option.
std::optional<std::string> add_file_values(CLI::App& app, const std::string& path,
                                           std::vector<std::pair<CLI::Option*, std::string>>& where) {
  toml::table tbl;
  try {
    tbl = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    if (e.source().begin.line == 0) return fmt::format("cannot read {}: {}", path, e.description());  // no such file
    return fmt::format("{} line {}: {}", path, e.source().begin.line, e.description());
  }
  for (auto&& [k, node] : tbl) {
    const std::string key(k.str());
    const auto line = node.source().begin.line;
    CLI::Option* opt = option_for_key(app, key);
    if (!opt) return fmt::format("{} line {}: unknown key '{}' (keys are serve's long options, e.g. max_limit)", path, line, key);
    const auto text = scalar_text(node);
    if (!text) return fmt::format("{} line {}: {}: expected a string, an integer or true/false", path, line, key);
    if (!opt->empty()) continue;  // given on the command line: it wins
    opt->add_result(*text);
    where.emplace_back(opt, fmt::format("{} line {}", path, line));
  }
  return std::nullopt;
}

std::optional<std::string> complete(ServeArgs& a) {
  a.opt.dir = a.dir;
  a.opt.ready_file = a.ready_file;
  if (!split_listen(a.listen, a.opt.host, a.opt.port)) return "listen: expected HOST:PORT, got '" + a.listen + "'";
  if (!a.opt.inflated_copy.empty() && pb::serve::InflatedCopy::inside_archive(a.opt.dir, a.opt.inflated_copy))
    return fmt::format("inflated_copy {} is inside the archive {}: name a folder outside it", a.opt.inflated_copy.string(),
                       a.opt.dir.string());
  if (a.opt.limits.default_limit > a.opt.limits.max_limit) a.opt.limits.default_limit = a.opt.limits.max_limit;
  return std::nullopt;
}

}  // namespace

void add_serve_options(CLI::App& cmd, ServeArgs& a) {
  auto& o = a.opt;
  cmd.add_option("dir", a.dir, "Archive directory")->capture_default_str()->type_name("DIR");
  cmd.add_option("--config", a.config,
                 "TOML file of these options (keys: the long names with underscores, e.g. max_limit = 1000); "
                 "the command line wins; read again on SIGHUP (see docs/serve.md, examples/serve.toml)")
      ->type_name("FILE");
  cmd.add_option("--listen", a.listen, "Address to listen on (port 0: any free port)")->capture_default_str();
  cmd.add_option("--ready-file", a.ready_file, "Write the bound port to FILE once listening")->type_name("FILE");
  cmd.add_option("--max-limit", o.limits.max_limit, "Largest limit a filter may use (larger are clamped)")
      ->capture_default_str();
  cmd.add_option("--default-limit", o.limits.default_limit, "Limit of a filter without one")->capture_default_str();
  cmd.add_option("--max-subscriptions", o.max_subscriptions, "Open subscriptions per connection")
      ->capture_default_str();
  cmd.add_option("--max-filters", o.max_filters, "Filters per REQ/COUNT/REST request")->capture_default_str();
  cmd.add_option("--max-connections", o.max_connections, "Open HTTP + WebSocket connections")->capture_default_str();
  cmd.add_option("--max-message-bytes", o.max_message_bytes, "Largest WebSocket message / HTTP body")
      ->capture_default_str();
  cmd.add_option("--max-output-bytes", o.max_pending_output,
                 "Queued output per WebSocket; a client that lets more pile up is disconnected")
      ->capture_default_str();
  cmd.add_option("--work-budget", o.limits.work_budget_rows, "Index rows one query may examine")->capture_default_str();
  cmd.add_option("--rate-limit", o.rate_limit_per_minute, "Requests per minute per IP address (0: off)")
      ->capture_default_str();
  cmd.add_option("--workers", o.workers, "Query threads")->capture_default_str();
  cmd.add_option("--net-threads", o.net_threads,
                 "Threads running the connections (reading, framing, sending); one is best on 2 cores, where a "
                 "second cost ~10% more CPU per query in thread hand-offs")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd.add_option("--slice-ms", o.slice_ms,
                 "A REQ runs at most this long before yielding its worker to queued queries (0: every 16 index rows)")
      ->capture_default_str();
  cmd.add_option("--first-slice-ms", o.first_slice_ms,
                 "A new REQ's first slice; new queries run before started ones, so cheap ones are not kept "
                 "waiting behind broad scans")
      ->capture_default_str();
  cmd.add_option("--cache-bytes", o.cache_bytes, "Decoded-member cache size in bytes")->capture_default_str();
  cmd.add_option("--event-cache-bytes", o.event_cache_bytes,
                 "Cache of single events read from members that were not cached (once full: those asked for twice; 0: off)")
      ->capture_default_str();
  cmd.add_option("--index-mmap-mib", o.index_mmap_mib,
                 "Query threads read index.db through a memory map of up to this many MiB (0: off): ~15% less "
                 "CPU per query on the benchmark, but an I/O error on index.db then ends serve (SIGBUS) "
                 "instead of failing the query")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 20))
      ->capture_default_str();
  cmd.add_option("--inflated-copy", o.inflated_copy,
                 "Keep an uncompressed copy of the day files in this folder (outside the archive; about twice "
                 "their size) and read cache misses from it instead of inflating them");
  cmd.add_option("--inflated-copy-refresh-s", o.inflated_copy_refresh_s, "How often new or changed day files are copied")
      ->check(CLI::Range(1u, 86400u))
      ->capture_default_str();
  cmd.add_option("--tail-poll-ms", o.tail_poll_ms, "Live tail: how often the index is polled")->capture_default_str();
  cmd.add_flag("--history", o.limits.history, "Serve every stored event (no replaceable/deletion/expiry rules)");
  cmd.add_option("--name", o.name, "NIP-11 name")->capture_default_str();
  cmd.add_option("--description", o.description, "NIP-11 description")->capture_default_str();
  cmd.add_option("--contact", o.contact, "NIP-11 contact");
  cmd.add_option("--pubkey", o.pubkey, "NIP-11 pubkey (64 hex)");
  cmd.add_option("--cors-origin", o.cors_origin, "Access-Control-Allow-Origin value")->capture_default_str();
}

GivenOptions given_options(const CLI::App& cmd) {
  GivenOptions given;
  for (const CLI::Option* opt : cmd.get_options())
    if (!opt->empty()) given.emplace_back(opt->get_name(), opt->results());
  return given;
}

std::variant<pb::serve::ServeOptions, std::string> load_serve_options(const GivenOptions& given) {
  ServeArgs a;
  CLI::App app("serve");
  add_serve_options(app, a);
  std::vector<std::pair<CLI::Option*, std::string>> where;
  for (const auto& [name, texts] : given) {
    CLI::Option* opt = app.get_option_no_throw(name);
    if (!opt) return "unknown option " + name;
    for (const auto& t : texts) opt->add_result(t);
    where.emplace_back(opt, "option " + name);
  }
  if (const CLI::Option* config = app.get_option_no_throw("--config"); config && !config->empty())
    if (auto error = add_file_values(app, config->results().back(), where)) return *error;
  for (auto& [opt, from] : where) {
    try {
      opt->run_callback();
    } catch (const CLI::Error& e) {
      return fmt::format("{} ({}): {}", opt->get_name(), from, e.what());
    }
  }
  if (auto error = complete(a)) return *error;
  return a.opt;
}

}  // namespace pb::cli
