// `proton-beam serve`: the archive as a read-only relay + REST API + web page on one port. Owns the
// io_context, the HTTP/WebSocket server, the worker pool, the member cache and the live tail.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <variant>

#include "serve/serve_options.hpp"

namespace pb::serve {

// Reads the options again (the command line, then the --config file) for SIGHUP: the options, or an error
// message naming the problem.
using OptionsLoader = std::function<std::variant<ServeOptions, std::string>()>;

// Serves until SIGTERM/SIGINT; returns the process exit status. Throws when the archive cannot be opened
// or the address cannot be bound. `on_listening` (may be empty) gets the bound port. On SIGHUP `reload`
// (may be empty: SIGHUP is then logged and ignored) gives the options to apply (serve/reload.hpp).
int run_server(const ServeOptions& options, const std::function<void(std::uint16_t)>& on_listening = {},
               const OptionsLoader& reload = {});

}  // namespace pb::serve
