// `proton-beam export`: events of an archive back out as JSONL, all of them or those matching a filter.
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/progress.hpp"
#include "query/export.hpp"
#include "nostr/hex.hpp"
#include "nostr/json_writer.hpp"

namespace pb::cli {
namespace {

struct ExportArgs {
  std::string dir = "pb_data";
  std::vector<std::string> ids, authors, kinds;
  std::string since, until, limit;
  CLI::Option* since_opt = nullptr;
  CLI::Option* until_opt = nullptr;
  CLI::Option* limit_opt = nullptr;
  std::string output = "-";
  bool no_progress = false;
  bool force_progress = false;
};

// A bad option value: reported on one line, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::int64_t parse_int(const std::string& text, const char* option, std::int64_t min, std::int64_t max) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    throw UsageError(fmt::format("{}: '{}' is not an integer", option, text));
  if (v < min || v > max) throw UsageError(fmt::format("{}: {} is out of range ({}..{})", option, text, min, max));
  return v;
}

std::vector<Id32> parse_hex_list(const std::vector<std::string>& items, const char* option, const char* what) {
  std::vector<Id32> out;
  for (const auto& h : items) {
    Id32 v{};
    if (h.size() != 64 || !decode_hex_any_case(h, v))
      throw UsageError(fmt::format("{}: '{}' is not {} (64 hex characters)", option, h, what));
    out.push_back(v);
  }
  return out;
}

IndexQuery build_query(const ExportArgs& a) {
  IndexQuery q;
  q.ids = parse_hex_list(a.ids, "--ids", "an event id");
  q.authors = parse_hex_list(a.authors, "--authors", "a pubkey");
  for (const auto& k : a.kinds) q.kinds.push_back(static_cast<std::int32_t>(parse_int(k, "--kinds", 0, 65535)));
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  if (a.since_opt->count()) q.since = parse_int(a.since, "--since", 0, kMax);
  if (a.until_opt->count()) q.until = parse_int(a.until, "--until", 0, kMax);
  if (q.since && q.until && *q.since > *q.until)
    throw UsageError(fmt::format("--since {} is after --until {}", *q.since, *q.until));
  if (a.limit_opt->count()) q.limit = static_cast<std::uint64_t>(parse_int(a.limit, "--limit", 1, kMax));
  return q;
}

// JSONL to a FILE*, in 1 MiB writes.
class JsonlOutput {
 public:
  explicit JsonlOutput(const std::string& name) : name_(name == "-" ? "stdout" : name) {
    if (name == "-") {
      f_ = stdout;
    } else {
      owned_.reset(std::fopen(name.c_str(), "wb"));
      if (!owned_) throw std::runtime_error(fmt::format("cannot open {}: {}", name, std::strerror(errno)));
      f_ = owned_.get();
    }
    buf_.reserve(kFlushAt + 4096);
  }
  void write(const Event& ev) {
    append_event_json(buf_, ev);
    buf_.push_back('\n');
    if (buf_.size() >= kFlushAt) flush();
  }
  void close() {
    flush();
    if (std::fflush(f_) != 0) fail();
    if (owned_ && std::fclose(owned_.release()) != 0) fail();
  }

 private:
  static constexpr std::size_t kFlushAt = 1u << 20;
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  void flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) fail();
    buf_.clear();
  }
  [[noreturn]] void fail() { throw std::runtime_error(fmt::format("cannot write to {}: {}", name_, std::strerror(errno))); }

  std::string name_;
  std::unique_ptr<std::FILE, Closer> owned_;
  std::FILE* f_ = nullptr;
  std::string buf_;
};

int run(const ExportArgs& a) {
  IndexQuery q;
  try {
    q = build_query(a);
  } catch (const UsageError& e) {
    fmt::print(stderr, "proton-beam export: error: {}\n", e.what());
    return kExitUsage;
  }
  const bool filtered = has_filter(q);
  // Checked before the output is created, so a typo in DIR does not leave an empty -o file behind.
  open_archive_index(a.dir);

  JsonlOutput out(a.output);
  // The status line would interleave with JSONL written to the same terminal.
  const bool interactive = ::isatty(STDERR_FILENO) && !(a.output == "-" && ::isatty(STDOUT_FILENO));
  ProgressLine progress(!a.no_progress && (a.force_progress || interactive));
  const auto t0 = std::chrono::steady_clock::now();
  auto last_shown = t0;

  ExportOptions opt;
  if (progress.enabled()) {
    opt.on_progress = [&](const ExportCounters& c) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_shown < std::chrono::milliseconds(200)) return;
      last_shown = now;
      const double secs = std::chrono::duration<double>(now - t0).count();
      std::string text = fmt::format("{} events | {:.0f} ev/s", c.events, secs > 0 ? c.events / secs : 0.0);
      if (filtered)
        text += fmt::format(" | {} members decoded", c.members_decoded);
      else if (c.bytes_total > 0)
        text += fmt::format(" | {} / {} ({:.1f}%)", human_bytes(static_cast<double>(c.bytes_done)),
                            human_bytes(static_cast<double>(c.bytes_total)), 100.0 * c.bytes_done / c.bytes_total);
      progress.show(text);
    };
  }

  ExportCounters c;
  try {
    if (filtered) {
      c = export_matching(a.dir, q, [&](const Event& ev) { out.write(ev); return true; }, opt);
    } else {
      // No filter: file order, and a limit keeps the first N.
      const std::uint64_t limit = q.limit.value_or(std::numeric_limits<std::uint64_t>::max());
      std::uint64_t n = 0;
      c = export_file_order(a.dir, [&](const Event& ev) { out.write(ev); return ++n < limit; }, opt);
    }
    out.close();
  } catch (...) {
    progress.finish();
    throw;
  }
  progress.finish();

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& p : c.problems) fmt::print(stderr, "warning: {}\n", p);
  if (c.problem_count > c.problems.size())
    fmt::print(stderr, "warning: ... and {} more problems\n", c.problem_count - c.problems.size());
  const std::string detail =
      filtered ? fmt::format("index order: {} rows matched, {} members decoded, {} records read", c.index_rows,
                             c.members_decoded, c.records_read)
               : fmt::format("file order: {} day files, {} records read", c.files_read, c.records_read);
  fmt::print(stderr, "exported {} events in {:.2f}s ({:.0f} events/s; {})\n", c.events, secs,
             secs > 0 ? c.events / secs : 0.0, detail);
  return c.problem_count == 0 ? kExitOk : kExitInputDamaged;
}

}  // namespace

CommandRunner register_export(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* cmd = app.add_subcommand("export", "Write archived events back out as JSONL, all or filtered");
  cmd->description(
      "Write the events of an archive as JSONL: one compact NIP-01 JSON object per line, which verifies in\n"
      "any Nostr implementation.\n"
      "\n"
      "Order. Without a filter (--ids, --authors, --kinds, --since, --until): file order, i.e. day files\n"
      "oldest day first and the events of each day in the order they were stored (chronological by day,\n"
      "input order within a day); --limit N keeps the first N. With any filter: the index's order, newest\n"
      "created_at first, ties broken by the lowest id (NIP-01); --limit N keeps the newest N matches, and\n"
      "only the compressed blocks that hold matches are read.\n"
      "\n"
      "Filters combine with AND; the values of one list with OR. Only committed events are exported, so\n"
      "it is safe to run beside a convert writing the same archive.");
  cmd->footer(
      "Exit status: 0 done; 1 missing or unreadable archive, unwritable output; 2 bad options;\n"
      "3 done, but some events could not be read (damaged day file; each is reported on stderr).");
  cmd->add_option("dir", args->dir, "Archive directory")->capture_default_str()->type_name("DIR");
  // One value per occurrence (comma-separated, repeatable), so a list never swallows the DIR after it.
  auto list = [&](const char* name, std::vector<std::string>& into, const char* help, const char* type) {
    cmd->add_option(name, into, help)->delimiter(',')->allow_extra_args(false)->type_name(type);
  };
  list("--ids", args->ids, "Event ids (64 hex chars, any case), comma-separated, repeatable", "HEX,...");
  list("--authors", args->authors, "Author pubkeys (64 hex chars, any case), comma-separated, repeatable", "HEX,...");
  list("--kinds", args->kinds, "Kinds (0-65535), comma-separated, repeatable", "N,...");
  args->since_opt = cmd->add_option("--since", args->since, "Only events with created_at >= T (unix seconds)")
                        ->type_name("T");
  args->until_opt = cmd->add_option("--until", args->until, "Only events with created_at <= T (unix seconds)")
                        ->type_name("T");
  args->limit_opt = cmd->add_option("--limit", args->limit, "At most N events, N >= 1 (after filtering; see Order)")
                        ->type_name("N");
  cmd->add_option("-o,--output", args->output, "Output file, '-' for stdout")->capture_default_str()->type_name("FILE");
  cmd->add_flag("--no-progress", args->no_progress, "Never show the progress line");
  cmd->add_flag("--progress", args->force_progress, "Show the progress line even when stderr is not a terminal");
  return [args] { return run(*args); };
}

}  // namespace pb::cli
