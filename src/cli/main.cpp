// proton-beam: one executable, one subcommand per archive operation.
#include <cstdio>
#include <exception>
#include <map>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"

int main(int argc, char** argv) {
  using namespace pb::cli;
  CLI::App app{
      "Proton Beam: archive Nostr events as validated, deduplicated protobuf day files with a SQLite index.",
      "proton-beam"};
  app.require_subcommand(1);
  app.footer(kExitCodeHelp);
  app.set_version_flag("--version", "proton-beam 0.1.0");

  std::map<CLI::App*, CommandRunner> runners;
  auto add = [&](CommandRunner (*reg)(CLI::App&)) {
    const std::size_t before = app.get_subcommands({}).size();
    CommandRunner run = reg(app);
    runners[app.get_subcommands({})[before]] = std::move(run);
  };
  add(register_convert);
  add(register_merge);
  add(register_index);
  add(register_export);
  add(register_stats);
  add(register_verify);
  add(register_s3);
  add(register_serve);
  add(register_compact);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  for (auto& [sub, run] : runners) {
    if (sub->parsed()) {
      try {
        return run();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "proton-beam %s: error: %s\n", sub->get_name().c_str(), e.what());
        return kExitFailure;
      }
    }
  }
  return kExitUsage;
}
