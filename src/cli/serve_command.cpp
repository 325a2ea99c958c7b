// `proton-beam serve`: the archive as a read-only Nostr relay, REST API and web page (docs/serve.md).
#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/serve_config.hpp"
#include "serve/server.hpp"

namespace pb::cli {

CommandRunner register_serve(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve the archive as a read-only Nostr relay, REST API and web page");
  cmd->description(
      "Serve an archive on one port: a read-only NIP-01 relay (REQ/CLOSE/COUNT, live tail of events committed\n"
      "later), NIP-11 on GET / with Accept: application/nostr+json, a REST API under /api/v1 (req, count,\n"
      "events, events/ID, stats), /metrics, /health, and a web page on GET / for browsers. By default only\n"
      "current events are served (latest replaceable/addressable versions, no deleted or expired events);\n"
      "--history serves every stored event. See docs/serve.md. Stops cleanly on SIGTERM/SIGINT; SIGHUP reads\n"
      "the options again (command line, then --config) and applies the limits, caps, rate limit, NIP-11 text\n"
      "and CORS origin to new requests (the others need a restart and are logged).");
  add_serve_options(*cmd, *a);
  return [cmd, a]() -> int {  // a: the options parsed into it must outlive the parse
    const GivenOptions given = given_options(*cmd);
    auto loaded = load_serve_options(given);
    if (auto* error = std::get_if<std::string>(&loaded)) {
      std::fprintf(stderr, "proton-beam serve: %s\n", error->c_str());
      return kExitUsage;
    }
    return pb::serve::run_server(std::get<pb::serve::ServeOptions>(loaded), {},
                                 [given] { return load_serve_options(given); });
  };
}

}  // namespace pb::cli
