// Cross-implementation checks against nostr-tools (npm, installed by scripts/setup.sh into tests/node),
// an independent NIP-01 implementation used as an oracle.
//
// tests/node/gen_events.mjs signs events with tricky content (every C0 control, DEL, U+2028/2029, NUL,
// quotes, '/', emoji and other non-BMP text, 70 KB content, odd tags, extreme kinds and timestamps),
// writes each also with unusual JSON escapes, adds mutated and malformed variants, and records
// nostr-tools' verdict on every line. Here we check that:
//   1. our verdict (EventParser + EventValidator, full id and signature checks) equals nostr-tools'
//      on every line, except a short list of named differences where the brief's strict rules win;
//   2. our canonical id equals nostr-tools' getEventHash for every event both sides can serialize;
//   3. our JSON writer's output of every accepted event verifies in nostr-tools, deep-equals the input
//      event and is byte-identical to JSON.stringify (tests/node/verify_events.mjs).
// A missing node or nostr-tools is a failure, not a skip: this oracle is part of the contract.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "nostr/canonical.hpp"
#include "nostr/hex.hpp"
#include "nostr/json_parse.hpp"
#include "nostr/json_writer.hpp"
#include "nostr/validate.hpp"
#include "test_support.hpp"

namespace pb {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------------
// Where nostr-tools and the brief disagree. nostr-tools 2.25.2 checks only JS types (typeof kind ===
// "number", ...) plus the lowercase pubkey, and works on JSON.parse's view of the line; the brief asks
// for what a careful relay accepts. Each entry is one line of the corpus (by name), what nostr-tools
// says, and what we say. The test fails if a listed line behaves otherwise or is missing, so the list
// cannot go stale. Everything not listed must agree exactly.
struct KnownDifference {
  std::string_view name;
  bool nostr_tools_accepts;
  std::optional<RejectCategory> ours;  // nullopt: we accept
};

const std::vector<KnownDifference>& known_differences() {
  using C = RejectCategory;
  static const std::vector<KnownDifference> list = {
      // sig: noble's hexToBytes accepts upper-case hex; the brief requires 128 lowercase hex characters.
      // (An upper-case id fails in nostr-tools too, by string comparison; an upper-case pubkey fails its
      // isHex32. Both are in the corpus as agreeing rejections.)
      {"mut_sig_uppercase", true, C::invalid_field},
      // kind: nostr-tools only checks typeof "number"; the brief allows integers in 0..65535.
      {"signed_kind_70000", true, C::invalid_kind},
      {"signed_kind_negative", true, C::invalid_kind},
      // created_at: nostr-tools signs and verifies -1 and 1700000000.5 as JSON.stringify renders them; the
      // brief requires a non-negative integer.
      {"signed_created_at_negative", true, C::invalid_field},
      {"signed_created_at_fraction", true, C::invalid_field},
      // Integral values written as JSON fractions or exponents (1700000000.0, 1.7e9, kind 1.0): JS
      // numbers do not keep the spelling and JSON.stringify writes them back as integers, so the id
      // matches there. We accept only integer syntax, so every implementation agrees on the canonical text.
      {"created_at_integral_float", true, C::invalid_field},
      {"created_at_exponent", true, C::invalid_field},
      {"kind_integral_float", true, C::invalid_kind},
      // Duplicate keys: JSON.parse silently keeps the last value; we refuse the ambiguity (even when
      // both values are equal), since another reader may keep the first.
      {"duplicate_key_kind", true, C::invalid_field},
      {"duplicate_key_content_same_value", true, C::invalid_field},
      // Lone surrogates: JS strings hold them and JSON.stringify re-escapes them as \udXXX, so the id
      // works there; they cannot become UTF-8, so the brief makes such events invalid. simdjson already
      // refuses to decode such a string escape, so the category is invalid_json.
      {"signed_lone_high_surrogate_content", true, C::invalid_json},
      {"signed_lone_low_surrogate_tag", true, C::invalid_json},
      {"reversed_surrogate_pair", true, C::invalid_json},
      // Invalid UTF-8 bytes in the line: Node's text decoding replaces them with U+FFFD before
      // nostr-tools sees the event (these lines are signed over the replaced text); we reject the bytes.
      {"invalid_utf8_byte_ff", true, C::invalid_json},
      {"invalid_utf8_cesu_surrogate", true, C::invalid_json},
      {"invalid_utf8_overlong_slash", true, C::invalid_json},
      {"invalid_utf8_truncated", true, C::invalid_json},
      // The reverse direction: created_at 9007199254740993 (2^53+1), signed over its exact digits as C,
      // Go or Rust implementations do. JSON.parse rounds it to 2^53, so nostr-tools hashes other text and
      // rejects; we keep the int64 exactly and accept. (Our exported JSON of this event therefore does
      // not verify in JS; it is left out of the export check below.)
      {"created_at_2^53+1_exact_digits", false, std::nullopt},
  };
  return list;
}

const KnownDifference* find_known_difference(std::string_view name) {
  for (const auto& d : known_differences())
    if (d.name == name) return &d;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------------
// Running node

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

const fs::path kNodeDir = PB_TEST_NODE_DIR;

// Empty when node and nostr-tools are usable; otherwise what is missing and how to fix it.
std::string node_problem() {
  const auto node = run_command("node --version");
  if (node.exit_code != 0)
    return "node is not on PATH (needed for the nostr-tools oracle; run scripts/setup.sh): " + node.output;
  if (!fs::exists(kNodeDir / "node_modules" / "nostr-tools" / "package.json"))
    return "nostr-tools is not installed in " + kNodeDir.string() + "/node_modules (run scripts/setup.sh)";
  return {};
}

// ---------------------------------------------------------------------------------------------------
// The corpus and nostr-tools' verdicts, generated once per test run.

struct Verdict {
  std::string name;
  bool json = false;
  bool validate = false;
  bool verify = false;
  bool id_ok = false;
  std::optional<std::string> hash;  // getEventHash, when nostr-tools could serialize the event
  bool accepted = false;
};

struct Corpus {
  std::string error;  // non-empty when the corpus could not be produced
  test::TempDir dir;
  std::string summary;  // the generator's stdout
  std::vector<std::string> lines;
  std::vector<Verdict> verdicts;
};

std::vector<std::string> split_lines(const std::string& data) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < data.size()) {
    std::size_t end = data.find('\n', start);
    if (end == std::string::npos) end = data.size();
    out.emplace_back(data, start, end - start);
    start = end + 1;
  }
  return out;
}

std::string read_verdicts(const fs::path& path, std::vector<Verdict>& out) {
  simdjson::dom::parser parser;
  for (const auto& line : test::read_lines(path)) {
    simdjson::dom::object o;
    if (parser.parse(line).get(o) != simdjson::SUCCESS) return "unparsable verdict line: " + line;
    Verdict v;
    std::string_view name;
    if (o["name"].get(name) || o["json"].get(v.json) || o["validate"].get(v.validate) ||
        o["verify"].get(v.verify) || o["id_ok"].get(v.id_ok) || o["accepted"].get(v.accepted))
      return "verdict line lacks a field: " + line;
    v.name = name;
    std::string_view hash;
    if (o["hash"].get(hash) == simdjson::SUCCESS) v.hash = std::string(hash);
    out.push_back(std::move(v));
  }
  return {};
}

std::unique_ptr<Corpus> make_corpus() {
  auto c = std::make_unique<Corpus>();
  if (c->error = node_problem(); !c->error.empty()) return c;
  const auto gen = run_command("node " + shell_quote((kNodeDir / "gen_events.mjs").string()) + " " +
                               shell_quote(c->dir.path().string()));
  c->summary = gen.output;
  if (gen.exit_code != 0) {
    c->error = "gen_events.mjs failed (exit " + std::to_string(gen.exit_code) + "): " + gen.output;
    return c;
  }
  c->lines = split_lines(test::read_file(c->dir.path() / "events.jsonl"));
  if (c->error = read_verdicts(c->dir.path() / "verdicts.jsonl", c->verdicts); !c->error.empty()) return c;
  if (c->lines.size() != c->verdicts.size())
    c->error = std::to_string(c->lines.size()) + " event lines but " + std::to_string(c->verdicts.size()) +
               " verdicts";
  return c;
}

const Corpus& corpus() {
  static const std::unique_ptr<Corpus> c = make_corpus();  // one per run; its temp dir is removed at exit
  return *c;
}

// Our verdict on one line, the way convert judges it.
struct Ours {
  std::optional<Rejection> rejection;  // nullopt: accepted
  bool parsed = false;                 // the parser accepted it (the id/sig checks may still reject)
  Event event;
};

std::vector<Ours> judge_all(const std::vector<std::string>& lines) {
  EventParser parser;
  EventValidator validator;  // ids and signatures both checked
  std::vector<Ours> out(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out[i].rejection = parser.parse(lines[i], out[i].event);
    out[i].parsed = !out[i].rejection;
    if (out[i].parsed) out[i].rejection = validator.validate(out[i].event);
  }
  return out;
}

std::string describe(const std::optional<Rejection>& r) {
  if (!r) return "accepted";
  return "rejected (" + std::string(category_name(r->category)) + ": " + r->message + ")";
}

#define PB_REQUIRE_CORPUS(c)                         \
  const Corpus& c = corpus();                        \
  ASSERT_TRUE(c.error.empty()) << c.error;           \
  ASSERT_FALSE(c.lines.empty()) << c.summary

// ---------------------------------------------------------------------------------------------------

TEST(NostrToolsCrosscheck, VerdictsAgreeOnEveryLine) {
  PB_REQUIRE_CORPUS(c);
  const auto ours = judge_all(c.lines);
  std::map<std::string_view, int> seen_differences;
  int both_accepted = 0, both_rejected = 0;
  std::map<std::string_view, int> rejected_by_category;
  for (std::size_t i = 0; i < c.lines.size(); ++i) {
    const Verdict& nt = c.verdicts[i];
    const bool we_accept = !ours[i].rejection;
    const std::string where = "line " + std::to_string(i + 1) + " [" + nt.name + "]: nostr-tools " +
                              (nt.accepted ? "accepted" : "rejected") + ", we " + describe(ours[i].rejection);
    if (const KnownDifference* d = find_known_difference(nt.name)) {
      ++seen_differences[d->name];
      EXPECT_EQ(nt.accepted, d->nostr_tools_accepts) << "known difference no longer holds: " << where;
      EXPECT_EQ(we_accept, !d->ours.has_value()) << "known difference no longer holds: " << where;
      if (d->ours && ours[i].rejection) {
        EXPECT_EQ(category_name(ours[i].rejection->category), category_name(*d->ours)) << where;
      }
      continue;
    }
    EXPECT_EQ(we_accept, nt.accepted) << where;
    // What JSON.parse refuses, our parser must refuse as JSON, before any field rule.
    if (!nt.json && ours[i].rejection) {
      EXPECT_EQ(category_name(ours[i].rejection->category), "invalid_json") << where;
    }
    if (we_accept && nt.accepted) ++both_accepted;
    if (!we_accept && !nt.accepted) {
      ++both_rejected;
      ++rejected_by_category[category_name(ours[i].rejection->category)];
    }
    // Where both parse the event, the id check itself must agree too (our id is lowercase by then).
    if (ours[i].parsed && nt.hash) {
      std::string scratch;
      EXPECT_EQ(compute_event_id(ours[i].event, scratch) == ours[i].event.id, nt.id_ok) << where;
    }
  }
  for (const auto& d : known_differences())
    EXPECT_EQ(seen_differences[d.name], 1) << "known difference " << d.name << " is not in the corpus exactly once";

  std::string by_category;
  for (const auto& [cat, n] : rejected_by_category)
    by_category += (by_category.empty() ? "" : " ") + std::string(cat) + "=" + std::to_string(n);
  std::printf("[ nostr-tools ] %s", c.summary.c_str());
  std::printf("[ nostr-tools ] %zu lines: both accepted %d, both rejected %d (%s), named differences %zu\n",
              c.lines.size(), both_accepted, both_rejected, by_category.c_str(), known_differences().size());
  // The corpus has 219 valid and 60 invalid agreeing lines; guard against it silently shrinking.
  EXPECT_GE(both_accepted, 200);
  EXPECT_GE(both_rejected, 40);
  EXPECT_EQ(both_accepted + both_rejected + static_cast<int>(known_differences().size()),
            static_cast<int>(c.lines.size()));
}

TEST(NostrToolsCrosscheck, CanonicalIdEqualsGetEventHash) {
  PB_REQUIRE_CORPUS(c);
  const auto ours = judge_all(c.lines);
  std::string scratch;
  int compared = 0, valid_compared = 0;
  for (std::size_t i = 0; i < c.lines.size(); ++i) {
    const Verdict& nt = c.verdicts[i];
    if (find_known_difference(nt.name)) continue;  // canonical text differs there by design
    // Every event nostr-tools accepts must parse here and hash to the id it computed.
    if (nt.accepted) {
      ASSERT_TRUE(ours[i].parsed) << nt.name << ": " << describe(ours[i].rejection);
      ASSERT_TRUE(nt.hash) << nt.name;
      EXPECT_EQ(*nt.hash, to_hex(ours[i].event.id)) << nt.name;
      ++valid_compared;
    }
    // And every event both sides can serialize (mutated content, wrong sigs, ...) hashes the same.
    if (ours[i].parsed && nt.hash) {
      EXPECT_EQ(to_hex(compute_event_id(ours[i].event, scratch)), *nt.hash) << nt.name;
      ++compared;
    }
  }
  std::printf("[ nostr-tools ] canonical ids compared: %d (of which %d valid events)\n", compared, valid_compared);
  EXPECT_GE(valid_compared, 200);
  EXPECT_GT(compared, valid_compared);
}

TEST(NostrToolsCrosscheck, OurJsonOutputVerifiesInNostrTools) {
  PB_REQUIRE_CORPUS(c);
  const auto ours = judge_all(c.lines);
  const fs::path out_path = c.dir.path() / "ours.jsonl";
  const fs::path originals_path = c.dir.path() / "ours_originals.jsonl";
  std::ofstream out(out_path, std::ios::binary), originals(originals_path, std::ios::binary);
  EventParser reparser;
  EventValidator revalidator;
  Event back;
  int written = 0;
  std::string json;
  for (std::size_t i = 0; i < c.lines.size(); ++i) {
    // Only events both sides accept: the one event only we accept (created_at above 2^53) cannot
    // verify in JavaScript, whatever its text.
    if (ours[i].rejection || !c.verdicts[i].accepted) continue;
    json.clear();
    append_event_json(json, ours[i].event);
    // Our own reader must take our output back unchanged, too.
    auto r = reparser.parse(json, back);
    if (!r) r = revalidator.validate(back);
    EXPECT_FALSE(r) << c.verdicts[i].name << ": " << describe(r);
    EXPECT_EQ(back, ours[i].event) << c.verdicts[i].name;
    out << json << '\n';
    originals << c.lines[i] << '\n';
    ++written;
  }
  out.close();
  originals.close();
  ASSERT_GE(written, 200);

  const auto check = run_command("node " + shell_quote((kNodeDir / "verify_events.mjs").string()) + " " +
                                 shell_quote(out_path.string()) + " " + shell_quote(originals_path.string()));
  std::printf("[ nostr-tools ] verify_events.mjs: %s", check.output.c_str());
  EXPECT_EQ(check.exit_code, 0) << check.output;
  simdjson::dom::parser parser;
  simdjson::dom::object summary;
  ASSERT_EQ(parser.parse(check.output).get(summary), simdjson::SUCCESS) << check.output;
  for (const char* key : {"lines", "verified", "id_ok", "equal_original", "byte_identical"}) {
    int64_t n = -1;
    EXPECT_EQ(summary[key].get(n), simdjson::SUCCESS) << key;
    EXPECT_EQ(n, written) << key << " in " << check.output;
  }
}

}  // namespace
}  // namespace pb
