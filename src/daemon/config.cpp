#include "daemon/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <toml++/toml.h>

#include "daemon/config_spec.hpp"
#include "daemon/config_values.hpp"

namespace pb::daemon {
namespace {

constexpr const char* kFooter = R"(
Every option can also be set in the TOML file given by --config (key = the long option name with
underscores, e.g. batch_size = 500, relays = ["wss://relay.example"]) and in an environment variable
PROTON_BEAM_<KEY> (e.g. PROTON_BEAM_BATCH_SIZE=500; lists comma-separated; PROTON_BEAM_CONFIG for the file).
Precedence: command line > environment > file > defaults. SIGHUP re-reads the file; SIGTERM/SIGINT stop
cleanly (everything received is committed). Full reference: docs/daemon.md, examples/daemon.toml.)";

struct FileValue {
  std::string text;
  std::int64_t line = 0;
};

std::optional<std::string> scalar_text(const toml::node& n) {
  if (auto s = n.as_string()) return s->get();
  if (auto b = n.as_boolean()) return std::string(b->get() ? "true" : "false");
  if (auto i = n.as_integer()) return std::to_string(i->get());
  if (auto f = n.as_floating_point()) return fmt::format("{}", f->get());
  return std::nullopt;
}

// Reads the file into key -> text. Returns an error naming the file and line.
std::optional<std::string> read_file(const std::string& path, std::map<std::string, FileValue>& out) {
  toml::table tbl;
  try {
    tbl = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return fmt::format("{} line {}: {}", path, e.source().begin.line, e.description());
  }
  for (auto&& [k, node] : tbl) {
    const std::string key(k.str());
    const auto line = static_cast<std::int64_t>(node.source().begin.line);
    const auto& specs = option_specs();
    if (std::none_of(specs.begin(), specs.end(), [&](const OptionSpec& s) { return s.key == key; }))
      return fmt::format("{} line {}: unknown key '{}'", path, line, key);
    std::string text;
    if (auto arr = node.as_array()) {
      for (std::size_t i = 0; i < arr->size(); ++i) {
        auto item = scalar_text(*arr->get(i));
        if (!item) return fmt::format("{} line {}: {}: list items must be strings or numbers", path, line, key);
        if (i) text += ',';
        text += *item;
      }
    } else if (auto s = scalar_text(node)) {
      text = *s;
    } else {
      return fmt::format("{} line {}: {}: expected a value, not a table", path, line, key);
    }
    out[key] = {text, line};
  }
  return std::nullopt;
}

struct CliValues {
  std::deque<std::string> texts;
  std::deque<std::vector<std::string>> lists;
  std::deque<bool> flags;
  std::vector<std::pair<const OptionSpec*, CLI::Option*>> options;
};

void add_cli_options(CLI::App& app, CliValues& v) {
  for (const auto& spec : option_specs()) {
    CLI::Option* opt = nullptr;
    const std::string help = spec.help + " [" + env_name(spec.key) + "]";
    if (spec.kind == OptKind::flag) opt = app.add_flag(spec.cli, v.flags.emplace_back(false), help);
    else if (spec.kind == OptKind::list) opt = app.add_option(spec.cli, v.lists.emplace_back(), help);
    else opt = app.add_option(spec.cli, v.texts.emplace_back(), help)->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    opt->group(spec.advanced ? "Advanced (tests, tuning)" : "Options");
    v.options.emplace_back(&spec, opt);
  }
}

std::optional<std::string> cli_text(const OptionSpec& spec, CLI::Option* opt, const CliValues& v) {
  if (opt->count() == 0) return std::nullopt;
  std::size_t ti = 0, li = 0, fi = 0;  // find this option's storage by walking the specs in order
  for (const auto& [s, o] : v.options) {
    if (s == &spec) break;
    (s->kind == OptKind::flag ? fi : s->kind == OptKind::list ? li : ti)++;
  }
  if (spec.kind == OptKind::flag) return std::string(v.flags[fi] ? "true" : "false");
  if (spec.kind == OptKind::list) {
    std::string joined;
    for (const auto& item : v.lists[li]) {
      if (!joined.empty()) joined += ',';
      joined += item;
    }
    return joined;
  }
  return v.texts[ti];
}

std::optional<std::string> apply_sources(LoadResult& r, const CliValues& cli, const EnvLookup& env,
                                         const std::map<std::string, FileValue>& file) {
  for (const auto& [spec, opt] : cli.options) {
    std::optional<std::string> value, where;
    if ((value = cli_text(*spec, opt, cli))) where = "option " + opt->get_name();
    else if ((value = env(env_name(spec->key)))) where = "environment " + env_name(spec->key);
    else if (auto it = file.find(spec->key); it != file.end())
      value = it->second.text, where = fmt::format("{} line {}", r.config.config_file, it->second.line);
    if (!value) continue;
    if (auto err = spec->apply(r.config, *value)) return fmt::format("bad {} ({}): {}", spec->key, *where, *err);
  }
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>& default_relays() {
  static const std::vector<std::string> relays = {"wss://relay.damus.io/", "wss://nos.lol/", "wss://relay.primal.net/",
                                                  "wss://relay.nostr.band/", "wss://relay.snort.social/"};
  return relays;
}

std::vector<std::string> effective_relays(const DaemonConfig& cfg) {
  std::vector<std::string> out = cfg.relays;
  if (!cfg.no_default_relays)
    for (const auto& r : default_relays())
      if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  return out;
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

LoadResult load_config(const std::vector<std::string>& args, const EnvLookup& env) {
  LoadResult r;
  CLI::App app{"proton-beam-daemon: archive live Nostr relays into day files + index.db", "proton-beam-daemon"};
  app.footer(kFooter);
  app.get_formatter()->column_width(36);
  std::string config_file;
  app.add_option("--config", config_file, "TOML configuration file [PROTON_BEAM_CONFIG]");
  app.add_flag("--print-config", r.print_config, "Print the effective configuration (TOML) and exit");
  CliValues cli;
  add_cli_options(app, cli);
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    std::ostringstream out, err;
    r.exit_code = app.exit(e, out, err);
    r.exit_now = r.exit_code == 0;
    r.output = out.str();
    if (!r.exit_now) r.error = err.str().empty() ? e.what() : err.str();
    if (!r.exit_now) r.exit_code = 2;
    return r;
  }
  if (config_file.empty()) config_file = env("PROTON_BEAM_CONFIG").value_or("");
  r.config.config_file = config_file;
  std::map<std::string, FileValue> file;
  if (!config_file.empty())
    if (auto err = read_file(config_file, file)) return r.error = "bad configuration file: " + *err, r.exit_code = 2, r;
  if (auto err = apply_sources(r, cli, env, file)) return r.error = *err, r.exit_code = 2, r;
  if (r.config.reconnect_max_ms < r.config.reconnect_min_ms) r.config.reconnect_max_ms = r.config.reconnect_min_ms;
  return r;
}

std::string format_config(const DaemonConfig& cfg) {
  std::string out = "# effective configuration of proton-beam-daemon\n";
  if (!cfg.config_file.empty()) out += "# file: " + cfg.config_file + "\n";
  for (const auto& spec : option_specs()) {
    const std::string value = spec.show(cfg);
    out += value.empty() ? "# " + spec.key + " = (not set)\n" : spec.key + " = " + value + "\n";
  }
  return out;
}

}  // namespace pb::daemon
