// `proton-beam serve`: the archive as a read-only relay + REST API + web page on one port. Owns the
// io_context, the HTTP/WebSocket server, the worker pool, the member cache and the live tail.
#pragma once

#include <cstdint>
#include <functional>

#include "serve/serve_options.hpp"

namespace pb::serve {

// Serves until SIGTERM/SIGINT; returns the process exit status. Throws when the archive cannot be opened
// or the address cannot be bound. `on_listening` (may be empty) gets the bound port.
int run_server(const ServeOptions& options, const std::function<void(std::uint16_t)>& on_listening = {});

}  // namespace pb::serve
