// The operations endpoints on --listen: /metrics (Prometheus text), /health, /ready, /relays (JSON).
// Handlers run on the io thread (the relay manager's thread).
#pragma once

#include <chrono>
#include <string>

#include "daemon/archive_sink.hpp"
#include "daemon/counters.hpp"
#include "daemon/discovery.hpp"
#include "daemon/relay_manager.hpp"
#include "daemon/s3_pusher.hpp"
#include "net/http_types.hpp"

namespace pb::daemon {

struct HttpApiState {
  const Counters& global;
  const SinkStatus& sink;
  const RelayManager& relays;
  std::chrono::milliseconds batch_interval;
  const Discovery* discovery = nullptr;  // null with --no-discovery
  const S3PushStatus* s3 = nullptr;      // null without --s3-output
  const RelayInfoCache* nip11 = nullptr;  // NIP-11 documents and fetch outcomes
};

net::Response handle_http(const HttpApiState& state, const net::Request& req);
std::string metrics_text(const HttpApiState& state);

}  // namespace pb::daemon
