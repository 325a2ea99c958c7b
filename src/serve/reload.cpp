#include "serve/reload.hpp"

#include <fmt/format.h>

namespace pb::serve {
namespace {

std::string text(const std::string& v) { return fmt::format("\"{}\"", v); }
std::string text(const std::filesystem::path& v) { return text(v.string()); }
std::string text(bool v) { return v ? "true" : "false"; }
template <class T>
std::string text(const T& v) {
  return std::to_string(v);
}

// Reloadable: copied into the plan's options. Fixed: left at the running value, reported.
struct Differ {
  const ServeOptions& loaded;
  ReloadPlan& plan;
  template <class T>
  void live(const char* key, T ServeOptions::*field) {
    live_value(key, plan.next.*field, loaded.*field);
  }
  template <class T>
  void live_value(const char* key, T& running, const T& fresh) {
    if (running == fresh) return;
    plan.applied.push_back(fmt::format("{} {} -> {}", key, text(running), text(fresh)));
    running = fresh;
  }
  template <class T>
  void fixed(const char* key, const T& running, const T& fresh) {
    if (running == fresh) return;
    plan.need_restart.push_back(fmt::format("{} {} -> {} (needs a restart)", key, text(running), text(fresh)));
  }
};

}  // namespace

ReloadPlan plan_reload(const ServeOptions& running, const ServeOptions& loaded) {
  ReloadPlan plan{running, {}, {}};
  Differ d{loaded, plan};
  d.live_value("max_limit", plan.next.limits.max_limit, loaded.limits.max_limit);
  d.live_value("default_limit", plan.next.limits.default_limit, loaded.limits.default_limit);
  d.live_value("work_budget", plan.next.limits.work_budget_rows, loaded.limits.work_budget_rows);
  d.live("max_subscriptions", &ServeOptions::max_subscriptions);
  d.live("max_filters", &ServeOptions::max_filters);
  d.live("rate_limit", &ServeOptions::rate_limit_per_minute);
  d.live("name", &ServeOptions::name);
  d.live("description", &ServeOptions::description);
  d.live("contact", &ServeOptions::contact);
  d.live("pubkey", &ServeOptions::pubkey);
  d.live("cors_origin", &ServeOptions::cors_origin);

  d.fixed("dir", running.dir, loaded.dir);
  d.fixed("listen", fmt::format("{}:{}", running.host, running.port), fmt::format("{}:{}", loaded.host, loaded.port));
  d.fixed("history", running.limits.history, loaded.limits.history);
  d.fixed("max_connections", running.max_connections, loaded.max_connections);
  d.fixed("max_message_bytes", running.max_message_bytes, loaded.max_message_bytes);
  d.fixed("max_output_bytes", running.max_pending_output, loaded.max_pending_output);
  d.fixed("workers", running.workers, loaded.workers);
  d.fixed("net_threads", running.net_threads, loaded.net_threads);
  d.fixed("slice_ms", running.slice_ms, loaded.slice_ms);
  d.fixed("first_slice_ms", running.first_slice_ms, loaded.first_slice_ms);
  d.fixed("cache_bytes", running.cache_bytes, loaded.cache_bytes);
  d.fixed("event_cache_bytes", running.event_cache_bytes, loaded.event_cache_bytes);
  d.fixed("index_mmap_mib", running.index_mmap_mib, loaded.index_mmap_mib);
  d.fixed("inflated_copy", running.inflated_copy, loaded.inflated_copy);
  d.fixed("inflated_copy_refresh_s", running.inflated_copy_refresh_s, loaded.inflated_copy_refresh_s);
  d.fixed("tail_poll_ms", running.tail_poll_ms, loaded.tail_poll_ms);
  d.fixed("ready_file", running.ready_file, loaded.ready_file);
  return plan;
}

}  // namespace pb::serve
