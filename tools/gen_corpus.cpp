// pb-gen-corpus: writes a realistic, signed NIP-01 corpus as JSONL, for benchmarks and tests.
//
// Output is a pure function of the options (never of --threads): every unique event is generated from
// its own PRNG stream derived from (seed, event number), secret keys from (seed, author number), and a
// single "planner" stream decides which lines are duplicates, which are invalid and which earlier line a
// duplicate copies. Workers sign in parallel; one thread writes, in order.
//
// Every line is one of:
//   valid      a correctly signed event (kinds 1, 7, 6, 0, 3, 30023, 10002, 5, 4 in a relay-like mix),
//   duplicate  a byte-exact copy of an earlier *valid* line (uniform over all earlier valid lines, via a
//              bounded reservoir sample, so copies land near and far from their original),
//   invalid    a unique line with exactly one defect whose rejection category is known (see Defect),
// so a converter run over the corpus has an exact expected outcome, which `--stats FILE` writes as JSON.
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include "nostr/canonical.hpp"
#include "nostr/event.hpp"
#include "nostr/hex.hpp"
#include "nostr/json_writer.hpp"

namespace {

// ---------------------------------------------------------------------------------------------------
// Deterministic randomness: splitmix64 to seed, xoshiro256** to generate. Both are tiny, fast and give
// the same sequence on every platform (std::*_distribution would not).

constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Independent streams: a different `stream` tag per purpose, `index` per key / event.
enum class Stream : std::uint64_t { planner = 1, author_key = 2, author_profile = 3, event = 4 };

class Rng {
 public:
  Rng(std::uint64_t seed, Stream stream, std::uint64_t index) {
    std::uint64_t mix = seed;
    std::uint64_t state = splitmix64(mix) ^ (static_cast<std::uint64_t>(stream) * 0xd1b54a32d192ed03ull);
    state = splitmix64(state) ^ index;
    for (auto& word : s_) word = splitmix64(state);
  }

  std::uint64_t next() {
    const std::uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n), n > 0 (multiply-shift; the bias is far below anything a corpus could show).
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  // Uniform in [lo, hi].
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + below(hi - lo + 1); }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }
  // Log-uniform in [lo, hi]: many small values, a long tail of large ones.
  std::size_t log_between(std::size_t lo, std::size_t hi) {
    const double v = static_cast<double>(lo) * std::exp(unit() * std::log(static_cast<double>(hi) / lo));
    return std::clamp(static_cast<std::size_t>(v), lo, hi);
  }
  void fill(std::span<std::uint8_t> out) {
    for (std::size_t i = 0; i < out.size(); i += 8) {
      const std::uint64_t w = next();
      for (std::size_t j = 0; j < 8 && i + j < out.size(); ++j) out[i + j] = static_cast<std::uint8_t>(w >> (8 * j));
    }
  }
  template <class T, std::size_t N>
  const T& pick(const std::array<T, N>& items) {
    return items[below(N)];
  }

 private:
  std::array<std::uint64_t, 4> s_{};
};

// ---------------------------------------------------------------------------------------------------
// Vocabulary for realistic-looking content.

using namespace std::string_view_literals;

constexpr std::array kWords = {
    "the"sv, "a"sv, "and"sv, "of"sv, "to"sv, "in"sv, "is"sv, "it"sv, "that"sv, "for"sv, "on"sv, "with"sv,
    "this"sv, "you"sv, "not"sv, "but"sv, "are"sv, "just"sv, "so"sv, "be"sv, "have"sv, "what"sv, "all"sv,
    "nostr"sv, "bitcoin"sv, "relay"sv, "zap"sv, "sats"sv, "lightning"sv, "node"sv, "key"sv, "note"sv,
    "freedom"sv, "protocol"sv, "client"sv, "censorship"sv, "resistant"sv, "network"sv, "open"sv,
    "source"sv, "coffee"sv, "morning"sv, "gm"sv, "pv"sv, "today"sv, "build"sv, "ship"sv, "code"sv,
    "people"sv, "think"sv, "really"sv, "good"sv, "great"sv, "new"sv, "time"sv, "world"sv, "money"sv,
    "wallet"sv, "block"sv, "height"sv, "fees"sv, "mempool"sv, "privacy"sv, "signal"sv, "noise"sv,
    "photo"sv, "music"sv, "podcast"sv, "weekend"sv, "family"sv, "dog"sv, "garden"sv, "mountain"sv,
    "ocean"sv, "sunset"sv, "city"sv, "train"sv, "book"sv, "reading"sv, "writing"sv, "learning"sv,
    "simple"sv, "hard"sv, "fast"sv, "slow"sv, "decentralized"sv, "social"sv, "media"sv, "feed"sv,
    "follow"sv, "reply"sv, "repost"sv, "like"sv, "community"sv, "vibe"sv, "based"sv, "plebs"sv,
    "stack"sv, "hodl"sv, "fiat"sv, "inflation"sv, "energy"sv, "mining"sv, "hashrate"sv, "difficulty"sv,
    "why"sv, "how"sv, "when"sv, "where"sv, "who"sv, "maybe"sv, "never"sv, "always"sv, "tomorrow"sv};

// Non-ASCII pieces: accents, CJK, Cyrillic, Arabic, emoji (incl. ZWJ sequences, flags, variation
// selectors), typographic punctuation, and U+2028 (raw in canonical JSON, a known trap).
constexpr std::array kUnicode = {
    "café"sv, "naïve"sv, "über"sv, "señor"sv, "日本語"sv, "こんにちは"sv, "ありがとう"sv, "你好"sv, "Привет"sv,
    "спасибо"sv, "مرحبا"sv, "שלום"sv, "γειά"sv, "🤙"sv, "⚡"sv, "🔥"sv, "💜"sv, "🧡"sv, "🫂"sv, "🚀"sv,
    "😂"sv, "👀"sv, "🙏"sv, "❤️"sv, "👨‍👩‍👧"sv, "🇯🇵"sv, "🏳️‍🌈"sv, "₿"sv, "—"sv, "…"sv, "“quoted”"sv,
    "it’s"sv, "«guillemets»"sv, "\u2028"sv, "∑"sv, "𝕏"sv};

// Rare bytes that canonical serialization must get exactly right (escaped \u00xx, escaped short forms,
// DEL raw, NUL kept). Valid content, just unusual.
constexpr std::array kTricky = {"\x7f"sv, "\x01"sv, "\x1f"sv, "\b"sv, "\f"sv, "\r\n"sv, "\t"sv,
                                 "back\\slash"sv, "a/b"sv, std::string_view("nul\0byte", 8)};

constexpr std::array kRelays = {
    "wss://relay.damus.io"sv,     "wss://nos.lol"sv,          "wss://relay.nostr.band"sv,
    "wss://relay.primal.net"sv,   "wss://nostr.wine"sv,       "wss://relay.snort.social"sv,
    "wss://purplepag.es"sv,       "wss://offchain.pub"sv,     "wss://nostr.mom"sv,
    "wss://relay.nostr.bg"sv,     "wss://nostr.oxtr.dev"sv,   "wss://relay.current.fyi/"sv};

constexpr std::array kClients = {"Damus"sv, "Amethyst"sv, "Primal"sv, "Coracle"sv, "noStrudel"sv,
                                 "Nostur"sv, "Iris"sv, "Snort"sv};

constexpr std::array kReactions = {"🤙"sv, "❤️"sv, "🔥"sv, "😂"sv, "🫂"sv, "⚡"sv, "👀"sv, "💯"sv, "🙏"sv};

constexpr std::string_view kBech32Chars = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

// ---------------------------------------------------------------------------------------------------
// Kind mix, per mille.
struct KindShare {
  std::int32_t kind;
  unsigned per_mille;
};
constexpr std::array kKindMix = {KindShare{1, 600},     KindShare{7, 190},  KindShare{6, 60},
                                 KindShare{0, 40},      KindShare{3, 30},   KindShare{10002, 25},
                                 KindShare{30023, 20},  KindShare{4, 20},   KindShare{5, 15}};
static_assert([] {
  unsigned sum = 0;
  for (const auto& k : kKindMix) sum += k.per_mille;
  return sum == 1000;
}());

// ---------------------------------------------------------------------------------------------------
// Invalid lines: exactly one defect each, with the rejection category a strict NIP-01 parser/validator
// assigns (core/reject.hpp names).
enum class Defect : std::uint8_t {
  flipped_sig_bit,      // invalid_signature
  signed_by_other_key,  // invalid_signature (id matches the claimed pubkey, the sig is another key's)
  content_edited,       // invalid_event_id
  random_id,            // invalid_event_id
  uppercase_id_hex,     // invalid_field
  missing_sig,          // invalid_field
  created_at_string,    // invalid_field
  negative_created_at,  // invalid_field
  lone_surrogate,       // invalid_json (simdjson refuses the escape: the text cannot become UTF-8)
  kind_out_of_range,    // invalid_kind (otherwise correctly signed)
  tag_value_number,     // invalid_tag_value
  truncated_line,       // invalid_json
};
constexpr std::size_t kDefectCount = 12;

struct DefectInfo {
  std::string_view name;
  std::string_view category;
};
constexpr std::array<DefectInfo, kDefectCount> kDefects = {{
    {"flipped_sig_bit", "invalid_signature"},
    {"signed_by_other_key", "invalid_signature"},
    {"content_edited", "invalid_event_id"},
    {"random_id", "invalid_event_id"},
    {"uppercase_id_hex", "invalid_field"},
    {"missing_sig", "invalid_field"},
    {"created_at_string", "invalid_field"},
    {"negative_created_at", "invalid_field"},
    {"lone_surrogate", "invalid_json"},
    {"kind_out_of_range", "invalid_kind"},
    {"tag_value_number", "invalid_tag_value"},
    {"truncated_line", "invalid_json"},
}};

// ---------------------------------------------------------------------------------------------------
// libsecp256k1 RAII.

struct ContextDeleter {
  void operator()(secp256k1_context* ctx) const { secp256k1_context_destroy(ctx); }
};
using ContextPtr = std::unique_ptr<secp256k1_context, ContextDeleter>;

ContextPtr make_context() {
  ContextPtr ctx(secp256k1_context_create(SECP256K1_CONTEXT_NONE));
  if (!ctx) throw std::runtime_error("secp256k1_context_create failed");
  return ctx;
}

struct Authors {
  std::vector<secp256k1_keypair> keypairs;
  std::vector<pb::Id32> pubkeys;
  std::vector<std::string> pubkey_hex;  // cached: p tags mention keys all the time
};

// Runs fn(worker, i) for i in [0, n) on `threads` threads (the caller is worker 0). Workers take small
// chunks from a shared counter, so uneven event costs (a 1000-tag contact list) still balance.
template <class Fn>
void parallel_for(unsigned threads, std::size_t n, Fn&& fn) {
  std::atomic<std::size_t> next{0};
  constexpr std::size_t kChunk = 16;
  auto work = [&](unsigned worker) {
    for (;;) {
      const std::size_t begin = next.fetch_add(kChunk, std::memory_order_relaxed);
      if (begin >= n) return;
      const std::size_t end = std::min(n, begin + kChunk);
      for (std::size_t i = begin; i < end; ++i) fn(worker, i);
    }
  };
  const std::size_t chunks = (n + kChunk - 1) / kChunk;
  const auto workers = static_cast<unsigned>(std::min<std::size_t>(threads, chunks));
  std::vector<std::jthread> helpers;
  for (unsigned w = 1; w < workers; ++w) helpers.emplace_back(work, w);
  work(0);
}  // helpers join here

Authors make_authors(std::uint64_t seed, std::size_t count, std::span<ContextPtr> contexts) {
  Authors authors;
  authors.keypairs.resize(count);
  authors.pubkeys.resize(count);
  authors.pubkey_hex.resize(count);
  parallel_for(static_cast<unsigned>(contexts.size()), count, [&](unsigned worker, std::size_t a) {
    secp256k1_context* ctx = contexts[worker].get();
    Rng rng(seed, Stream::author_key, a);
    std::array<std::uint8_t, 32> secret{};
    do rng.fill(secret);  // a key >= n or zero is astronomically rare; draw again if it happens
    while (!secp256k1_keypair_create(ctx, &authors.keypairs[a], secret.data()));
    secp256k1_xonly_pubkey xonly;
    if (!secp256k1_keypair_xonly_pub(ctx, &xonly, nullptr, &authors.keypairs[a]) ||
        !secp256k1_xonly_pubkey_serialize(ctx, authors.pubkeys[a].data(), &xonly))
      throw std::runtime_error("secp256k1: could not derive an x-only public key");
    authors.pubkey_hex[a] = pb::to_hex(authors.pubkeys[a]);
  });
  return authors;
}

// ---------------------------------------------------------------------------------------------------
// Event content and tags.

class EventMaker {
 public:
  EventMaker(const Authors& authors, std::uint64_t seed, std::int64_t start, std::int64_t span_seconds)
      : authors_(authors), seed_(seed), start_(start), span_(span_seconds) {}

  // Fills `ev` (everything but id and sig) from `rng`; returns the author's index.
  std::size_t make(Rng& rng, pb::Event& ev) const {
    ev.tags.clear();
    ev.content.clear();
    const std::size_t author = pick_author(rng);
    ev.pubkey = authors_.pubkeys[author];
    ev.created_at = start_ + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(span_)));
    ev.kind = pick_kind(rng);
    switch (ev.kind) {
      case 0: metadata(rng, author, ev); break;
      case 3: contacts(rng, ev); break;
      case 4: direct_message(rng, ev); break;
      case 5: deletion(rng, ev); break;
      case 6: repost(rng, ev); break;
      case 7: reaction(rng, ev); break;
      case 10002: relay_list(rng, ev); break;
      case 30023: long_form(rng, ev); break;
      default: text_note(rng, ev); break;
    }
    return author;
  }

  std::size_t pick_author(Rng& rng) const {
    // Skewed activity: u^3 puts ~20% of the events on the busiest 1% of keys, like real relays.
    const double u = rng.unit();
    return std::min(authors_.pubkeys.size() - 1,
                    static_cast<std::size_t>(u * u * u * static_cast<double>(authors_.pubkeys.size())));
  }

 private:
  static std::int32_t pick_kind(Rng& rng) {
    auto roll = static_cast<unsigned>(rng.below(1000));
    for (const auto& k : kKindMix) {
      if (roll < k.per_mille) return k.kind;
      roll -= k.per_mille;
    }
    return 1;
  }

  static std::string random_hex(Rng& rng, std::size_t bytes) {
    std::array<std::uint8_t, 64> buf{};
    rng.fill(std::span(buf).first(bytes));
    return pb::to_hex(std::span(buf).first(bytes));
  }
  const std::string& pubkey_hex(Rng& rng) const { return authors_.pubkey_hex[pick_author(rng)]; }

  static void append_bech32(Rng& rng, std::string& out, std::string_view hrp, std::size_t len) {
    out.append(hrp);
    out.push_back('1');
    for (std::size_t i = 0; i < len; ++i) out.push_back(kBech32Chars[rng.below(kBech32Chars.size())]);
  }

  static void append_url(Rng& rng, std::string& out) {
    switch (rng.below(4)) {
      case 0:
        out.append("https://image.nostr.build/").append(random_hex(rng, 32)).append(".jpg");
        break;
      case 1:
        out.append("https://youtu.be/");
        append_bech32(rng, out, "v", 10);
        break;
      case 2:
        out.append("https://example.com/").append(rng.pick(kWords)).append("?q=").append(rng.pick(kWords));
        break;
      default:
        out.append("https://blossom.primal.net/").append(random_hex(rng, 32)).append(".mp4");
        break;
    }
  }

  // Prose up to about `target` bytes: words, unicode, newlines, quotes, links, mentions, hashtags.
  static void append_text(Rng& rng, std::string& out, std::size_t target, bool allow_tricky) {
    const std::size_t start = out.size();
    bool capital = true;
    while (out.size() - start < target) {
      const auto roll = rng.below(1000);
      const bool at_line_start = out.size() == start || out.back() == '\n';
      if (!at_line_start && roll < 950) out.push_back(' ');
      if (roll < 780) {
        std::string_view w = rng.pick(kWords);
        if (capital && !w.empty()) {
          out.push_back(static_cast<char>(w[0] - 'a' + 'A'));
          w.remove_prefix(1);
        }
        out.append(w);
        capital = false;
        const auto punct = rng.below(100);
        if (punct < 6) {
          out.append(punct < 4 ? "." : punct < 5 ? "!" : "?");
          capital = true;
        } else if (punct < 10) {
          out.push_back(',');
        }
      } else if (roll < 850) {
        out.append(rng.pick(kUnicode));
      } else if (roll < 890) {
        out.append(rng.chance(0.5) ? "\n" : "\n\n");
        capital = true;
      } else if (roll < 910) {
        out.push_back('"');
        out.append(rng.pick(kWords)).append(" ").append(rng.pick(kWords));
        out.push_back('"');
      } else if (roll < 935) {
        append_url(rng, out);
      } else if (roll < 955) {
        out.push_back('#');
        out.append(rng.pick(kWords));
      } else if (roll < 975) {
        out.append("nostr:");
        append_bech32(rng, out, rng.chance(0.5) ? "npub" : "note", 58);
      } else if (roll < 998 || !allow_tricky) {
        out.append(rng.pick(kReactions));
      } else {
        out.append(rng.pick(kTricky));
      }
    }
  }

  // Content length: mostly short notes, a long tail up to a few KB.
  static std::size_t note_length(Rng& rng) {
    const auto roll = rng.below(100);
    if (roll < 60) return rng.between(10, 140);
    if (roll < 90) return rng.between(140, 500);
    if (roll < 98) return rng.between(500, 1500);
    return rng.between(1500, 4000);
  }

  static pb::Tag tag(std::initializer_list<std::string_view> values) {
    return pb::Tag(values.begin(), values.end());
  }

  void text_note(Rng& rng, pb::Event& ev) const {
    if (rng.chance(0.4)) {  // a reply: NIP-10 marked e tags plus the thread's participants
      const std::string root = random_hex(rng, 32);
      ev.tags.push_back(tag({"e", root, rng.chance(0.5) ? rng.pick(kRelays) : "", "root"}));
      if (rng.chance(0.6)) ev.tags.push_back(tag({"e", random_hex(rng, 32), rng.pick(kRelays), "reply"}));
      const auto participants = rng.between(1, 4);
      for (std::uint64_t i = 0; i < participants; ++i) ev.tags.push_back(tag({"p", pubkey_hex(rng)}));
    }
    if (rng.chance(0.03)) {  // a mention blast
      const auto n = rng.between(20, 120);
      for (std::uint64_t i = 0; i < n; ++i) ev.tags.push_back(tag({"p", pubkey_hex(rng)}));
    }
    if (rng.chance(0.2)) {
      const auto n = rng.between(1, 4);
      for (std::uint64_t i = 0; i < n; ++i) ev.tags.push_back(tag({"t", rng.pick(kWords)}));
    }
    if (rng.chance(0.15)) ev.tags.push_back(tag({"client", rng.pick(kClients)}));
    append_text(rng, ev.content, note_length(rng), true);
    if (rng.chance(0.05)) {  // NIP-92 media attachment, URL repeated in the content
      std::string url;
      append_url(rng, url);
      ev.content.append("\n").append(url);
      ev.tags.push_back(tag({"imeta", "url " + url, "m image/jpeg", "dim 1080x1350"}));
    }
  }

  void reaction(Rng& rng, pb::Event& ev) const {
    ev.tags.push_back(tag({"e", random_hex(rng, 32)}));
    ev.tags.push_back(tag({"p", pubkey_hex(rng)}));
    if (rng.chance(0.5)) ev.tags.push_back(tag({"k", "1"}));
    const auto roll = rng.below(100);
    if (roll < 60) {
      ev.content = "+";
    } else if (roll < 90) {
      ev.content = rng.pick(kReactions);
    } else if (roll < 95) {
      ev.content = "-";
    } else {
      ev.content = ":soapbox:";
      ev.tags.push_back(tag({"emoji", "soapbox", "https://example.com/emoji/soapbox.png"}));
    }
  }

  void repost(Rng& rng, pb::Event& ev) const {
    // The reposted event rides along as stringified JSON: quotes and escapes inside the content.
    pb::Event inner;
    rng.fill(inner.id);
    inner.pubkey = authors_.pubkeys[pick_author(rng)];
    inner.created_at = start_ + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(span_)));
    inner.kind = 1;
    if (rng.chance(0.3)) inner.tags.push_back(tag({"t", rng.pick(kWords)}));
    append_text(rng, inner.content, note_length(rng), false);
    rng.fill(inner.sig);
    ev.tags.push_back(tag({"e", pb::to_hex(inner.id), rng.pick(kRelays)}));
    ev.tags.push_back(tag({"p", pb::to_hex(inner.pubkey)}));
    if (rng.chance(0.7)) pb::append_event_json(ev.content, inner);
  }

  void metadata(Rng& rng, std::size_t author, pb::Event& ev) const {
    // A profile: same name for the same key across its kind-0 events; "about" has newlines and quotes
    // that end up escaped twice (once in this JSON, once in the event's).
    Rng profile(seed_, Stream::author_profile, author);
    std::string name(profile.pick(kWords));
    name.append(std::to_string(profile.below(1000)));
    std::string about;
    append_text(rng, about, rng.between(0, 300), false);
    auto& c = ev.content;
    c.append("{\"name\":");
    pb::append_json_string(c, name);
    c.append(",\"display_name\":");
    pb::append_json_string(c, name + " " + std::string(profile.pick(kUnicode)));
    c.append(",\"about\":");
    pb::append_json_string(c, about);
    c.append(",\"picture\":\"https://image.nostr.build/").append(random_hex(rng, 32)).append(".png\"");
    if (profile.chance(0.6)) c.append(",\"nip05\":\"").append(name).append("@example.com\"");
    if (profile.chance(0.5)) c.append(",\"lud16\":\"").append(name).append("@getalby.com\"");
    c.push_back('}');
  }

  void contacts(Rng& rng, pb::Event& ev) const {
    const std::size_t follows = rng.log_between(5, 600);  // mean ~125, as on real relays
    ev.tags.reserve(follows);
    for (std::size_t i = 0; i < follows; ++i) {
      const auto roll = rng.below(10);
      if (roll < 6) {
        ev.tags.push_back(tag({"p", pubkey_hex(rng)}));
      } else if (roll < 9) {
        ev.tags.push_back(tag({"p", pubkey_hex(rng), rng.pick(kRelays)}));
      } else {
        ev.tags.push_back(tag({"p", pubkey_hex(rng), rng.pick(kRelays), rng.pick(kWords)}));
      }
    }
    if (rng.chance(0.5)) {
      ev.content.append("{");
      const auto relays = rng.between(1, 4);
      for (std::uint64_t i = 0; i < relays; ++i) {
        if (i) ev.content.push_back(',');
        pb::append_json_string(ev.content, rng.pick(kRelays));
        ev.content.append(rng.chance(0.7) ? ":{\"read\":true,\"write\":true}" : ":{\"read\":true,\"write\":false}");
      }
      ev.content.append("}");
    }
  }

  void relay_list(Rng& rng, pb::Event& ev) const {
    const auto n = rng.between(2, 10);
    for (std::uint64_t i = 0; i < n; ++i) {
      const auto roll = rng.below(4);
      if (roll < 2) ev.tags.push_back(tag({"r", rng.pick(kRelays)}));
      else ev.tags.push_back(tag({"r", rng.pick(kRelays), roll == 2 ? "read" : "write"}));
    }
  }

  void long_form(Rng& rng, pb::Event& ev) const {
    std::string title;
    append_text(rng, title, rng.between(10, 60), false);
    std::string slug = std::string(rng.pick(kWords)) + "-" + std::string(rng.pick(kWords)) + "-" +
                       std::to_string(rng.below(100000));
    ev.tags.push_back(tag({"d", slug}));
    ev.tags.push_back(tag({"title", title}));
    ev.tags.push_back(tag({"published_at", std::to_string(ev.created_at - static_cast<std::int64_t>(rng.below(86400)))}));
    if (rng.chance(0.6)) ev.tags.push_back(tag({"image", "https://image.nostr.build/" + random_hex(rng, 32) + ".webp"}));
    const auto topics = rng.between(1, 5);
    for (std::uint64_t i = 0; i < topics; ++i) ev.tags.push_back(tag({"t", rng.pick(kWords)}));
    // Markdown: headings, paragraphs, lists, a code block with backslashes and quotes.
    auto& c = ev.content;
    c.append("# ").append(title).append("\n\n");
    const std::size_t target = rng.log_between(1000, 8000);
    while (c.size() < target) {
      const auto roll = rng.below(10);
      if (roll < 6) {
        append_text(rng, c, rng.between(100, 600), false);
      } else if (roll < 7) {
        c.append("## ");
        append_text(rng, c, rng.between(10, 40), false);
      } else if (roll < 9) {
        const auto items = rng.between(2, 5);
        for (std::uint64_t i = 0; i < items; ++i) {
          c.append("- ");
          append_text(rng, c, rng.between(10, 80), false);
          c.push_back('\n');
        }
      } else {
        c.append("```\nprintf(\"%s\\n\", \"").append(rng.pick(kWords)).append("\");\n\tpath = \"C:\\\\nostr\"\n```");
      }
      c.append("\n\n");
    }
  }

  void direct_message(Rng& rng, pb::Event& ev) const {
    // NIP-04 shape: base64 ciphertext + iv (random bytes; nobody can decrypt them, nor needs to).
    ev.tags.push_back(tag({"p", pubkey_hex(rng)}));
    constexpr std::string_view b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const std::size_t len = 4 * rng.between(6, 120);
    for (std::size_t i = 0; i < len; ++i) ev.content.push_back(b64[rng.below(64)]);
    ev.content.append("?iv=");
    for (int i = 0; i < 22; ++i) ev.content.push_back(b64[rng.below(64)]);
    ev.content.append("==");
  }

  void deletion(Rng& rng, pb::Event& ev) const {
    const auto n = rng.between(1, 3);
    for (std::uint64_t i = 0; i < n; ++i) ev.tags.push_back(tag({"e", random_hex(rng, 32)}));
    ev.tags.push_back(tag({"k", "1"}));
    if (rng.chance(0.3)) ev.content = "posted by mistake";
  }

  const Authors& authors_;
  std::uint64_t seed_;
  std::int64_t start_;
  std::int64_t span_;
};

// ---------------------------------------------------------------------------------------------------
// Per-thread signer: its own secp256k1 context and scratch buffers.

class Signer {
 public:
  Signer(const Authors& authors, const EventMaker& maker, std::uint64_t seed)
      : ctx_(make_context()), authors_(authors), maker_(maker), seed_(seed) {}

  struct Generated {
    Defect defect;      // meaningful for invalid lines only
    std::int32_t kind;  // meaningful for valid lines only
  };

  // Writes unique event number `u` as one JSON line (no newline) into `line`. With `invalid`, applies one
  // defect and says which.
  Generated generate(std::uint64_t u, bool invalid, std::string& line) {
    Rng rng(seed_, Stream::event, u);
    const std::size_t author = maker_.make(rng, ev_);
    line.clear();
    if (!invalid) {
      sign(rng, author);
      pb::append_event_json(line, ev_);
      return {Defect{}, ev_.kind};
    }
    const auto defect = static_cast<Defect>(rng.below(kDefectCount));
    apply_defect(rng, defect, author, line);
    return {defect, ev_.kind};
  }

 private:
  void sign(Rng& rng, std::size_t author) {
    ev_.id = pb::compute_event_id(ev_, scratch_);
    std::array<std::uint8_t, 32> aux{};
    rng.fill(aux);
    if (!secp256k1_schnorrsig_sign32(ctx_.get(), ev_.sig.data(), ev_.id.data(), &authors_.keypairs[author],
                                     aux.data()))
      throw std::runtime_error("secp256k1_schnorrsig_sign32 failed");
  }

  // Inserts `text` right after the first occurrence of `key` (a JSON key with its colon). Keys are
  // searched as `"key":` outside strings: inside a string every quote is escaped, so no false match.
  static void insert_after(std::string& line, std::string_view key, std::string_view text) {
    const auto pos = line.find(key);
    if (pos == std::string::npos) throw std::logic_error("event JSON lacks an expected key");
    line.insert(pos + key.size(), text);
  }

  void apply_defect(Rng& rng, Defect defect, std::size_t author, std::string& line) {
    switch (defect) {
      case Defect::flipped_sig_bit: {
        sign(rng, author);
        const auto bit = rng.below(512);
        ev_.sig[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        pb::append_event_json(line, ev_);
        break;
      }
      case Defect::signed_by_other_key: {
        sign(rng, author);  // the signature of `author`...
        std::size_t other = rng.below(authors_.pubkeys.size());
        if (authors_.pubkeys[other] == ev_.pubkey) other = (other + 1) % authors_.pubkeys.size();
        ev_.pubkey = authors_.pubkeys[other];  // ...under another key, with the id recomputed to match
        if (authors_.pubkeys.size() == 1) ev_.pubkey[31] ^= 1;
        ev_.id = pb::compute_event_id(ev_, scratch_);
        pb::append_event_json(line, ev_);
        break;
      }
      case Defect::content_edited:
        sign(rng, author);
        ev_.content.append(rng.chance(0.5) ? " (edited)" : ".");
        pb::append_event_json(line, ev_);
        break;
      case Defect::random_id:
        sign(rng, author);
        rng.fill(ev_.id);
        pb::append_event_json(line, ev_);
        break;
      case Defect::uppercase_id_hex: {
        sign(rng, author);
        pb::append_event_json(line, ev_);
        constexpr std::string_view key = "\"id\":\"";
        const auto begin = line.find(key) + key.size();
        bool changed = false;
        for (auto i = begin; i < begin + 64; ++i) {
          if (line[i] >= 'a' && line[i] <= 'f') {
            line[i] = static_cast<char>(line[i] - 'a' + 'A');
            changed = true;
          }
        }
        if (!changed) line[begin] = 'A';  // all 64 digits: practically impossible, still made invalid
        break;
      }
      case Defect::missing_sig: {
        sign(rng, author);
        pb::append_event_json(line, ev_);
        const auto pos = line.rfind(",\"sig\":\"");  // the writer puts sig last
        if (pos == std::string::npos) throw std::logic_error("event JSON lacks \"sig\"");
        line.erase(pos, line.size() - 1 - pos);
        break;
      }
      case Defect::created_at_string: {
        sign(rng, author);
        pb::append_event_json(line, ev_);
        constexpr std::string_view key = "\"created_at\":";
        const auto begin = line.find(key) + key.size();
        line.insert(line.find(',', begin), "\"");
        line.insert(begin, "\"");
        break;
      }
      case Defect::negative_created_at:
        sign(rng, author);
        pb::append_event_json(line, ev_);
        insert_after(line, "\"created_at\":", "-");
        break;
      case Defect::lone_surrogate:
        sign(rng, author);
        pb::append_event_json(line, ev_);
        insert_after(line, "\"content\":\"", rng.chance(0.5) ? "\\ud83d" : "x\\udc00y");
        break;
      case Defect::kind_out_of_range:
        ev_.kind = static_cast<std::int32_t>(rng.between(65536, 1u << 20));
        sign(rng, author);
        pb::append_event_json(line, ev_);
        break;
      case Defect::tag_value_number: {
        sign(rng, author);
        pb::append_event_json(line, ev_);
        insert_after(line, "\"tags\":[", ev_.tags.empty() ? "[\"expiration\",1700000000]" : "[\"t\",42],");
        break;
      }
      case Defect::truncated_line:
        sign(rng, author);
        pb::append_event_json(line, ev_);
        line.resize(rng.between(1, line.size() - 1));
        break;
    }
  }

  ContextPtr ctx_;
  const Authors& authors_;
  const EventMaker& maker_;
  std::uint64_t seed_;
  pb::Event ev_;
  std::string scratch_;
};

// ---------------------------------------------------------------------------------------------------
// Output.

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

class Output {
 public:
  explicit Output(const std::string& path) {
    if (path.empty() || path == "-") {
      file_ = stdout;
    } else {
      owned_.reset(std::fopen(path.c_str(), "wb"));
      if (!owned_) throw std::runtime_error(fmt::format("cannot open {} for writing", path));
      file_ = owned_.get();
    }
  }
  void write(std::string_view data) {
    if (!data.empty() && std::fwrite(data.data(), 1, data.size(), file_) != data.size())
      throw std::runtime_error("write failed (disk full or closed pipe?)");
  }
  void close() {
    if (std::fflush(file_) != 0) throw std::runtime_error("write failed (disk full or closed pipe?)");
    if (owned_ && std::fclose(owned_.release()) != 0) throw std::runtime_error("closing the output failed");
  }

 private:
  std::unique_ptr<std::FILE, FileCloser> owned_;
  std::FILE* file_ = nullptr;
};

std::int64_t parse_date(const std::string& text) {
  int y = 0;
  unsigned m = 0, d = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  auto field = [&](auto& v, char sep) {
    auto r = std::from_chars(p, end, v);
    if (r.ec != std::errc{}) return false;
    p = r.ptr;
    if (sep) {
      if (p == end || *p != sep) return false;
      ++p;
    }
    return true;
  };
  using namespace std::chrono;
  if (!field(y, '-') || !field(m, '-') || !field(d, '\0') || p != end)
    throw CLI::ValidationError("--start-date", "expected YYYY-MM-DD, got " + text);
  const year_month_day ymd{year{y}, month{m}, day{d}};
  if (!ymd.ok() || y < 1970) throw CLI::ValidationError("--start-date", "not a valid date from 1970 on: " + text);
  return sys_seconds{sys_days{ymd}}.time_since_epoch().count();
}

enum class LineKind : std::uint8_t { valid, invalid, duplicate };

struct Totals {
  std::uint64_t lines = 0, valid = 0, duplicates = 0, invalid = 0, bytes = 0;
  std::array<std::uint64_t, kDefectCount> defects{};
  std::array<std::uint64_t, 65536> kinds{};  // valid unique events per kind (defective kinds excluded)
};

// Deterministic like the corpus itself (no timings), so tests can compare it.
std::string stats_json(const Totals& t, std::uint64_t seed) {
  std::string out = fmt::format(
      "{{\n  \"seed\": {},\n  \"lines\": {},\n  \"bytes\": {},\n  \"valid_unique\": {},\n  \"duplicates\": {},\n"
      "  \"invalid\": {},\n  \"expected_rejections\": {{",
      seed, t.lines, t.bytes, t.valid, t.duplicates, t.invalid);
  // Aggregate by category, in first-appearance order.
  std::vector<std::pair<std::string_view, std::uint64_t>> by_category;
  for (std::size_t i = 0; i < kDefectCount; ++i) {
    auto it = std::find_if(by_category.begin(), by_category.end(),
                           [&](const auto& e) { return e.first == kDefects[i].category; });
    if (it == by_category.end()) by_category.emplace_back(kDefects[i].category, t.defects[i]);
    else it->second += t.defects[i];
  }
  for (std::size_t i = 0; i < by_category.size(); ++i)
    out += fmt::format("{}\n    \"{}\": {}", i ? "," : "", by_category[i].first, by_category[i].second);
  out += "\n  },\n  \"defects\": {";
  for (std::size_t i = 0; i < kDefectCount; ++i)
    out += fmt::format("{}\n    \"{}\": {}", i ? "," : "", kDefects[i].name, t.defects[i]);
  out += "\n  },\n  \"valid_by_kind\": {";
  bool first = true;
  for (std::size_t k = 0; k < t.kinds.size(); ++k) {
    if (!t.kinds[k]) continue;
    out += fmt::format("{}\n    \"{}\": {}", first ? "" : ",", k, t.kinds[k]);
    first = false;
  }
  out += "\n  }\n}\n";
  return out;
}

struct Options {
  std::uint64_t events = 10000;
  std::uint64_t seed = 1;
  std::size_t authors = 1000;
  double duplicate_fraction = 0.0;
  double invalid_fraction = 0.0;
  unsigned days = 1;
  std::string start_date = "2024-01-01";
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::string output = "-";
  std::string stats_path;
  bool quiet = false;
};

int run(const Options& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::int64_t start = parse_date(opt.start_date);
  const std::uint64_t total = opt.events;
  const auto duplicates = static_cast<std::uint64_t>(std::llround(opt.duplicate_fraction * static_cast<double>(total)));
  const auto invalid = static_cast<std::uint64_t>(std::llround(opt.invalid_fraction * static_cast<double>(total)));
  if (duplicates + invalid > total)
    throw CLI::ValidationError("--duplicate-fraction + --invalid-fraction must not exceed 1");
  const std::uint64_t valid = total - duplicates - invalid;
  if (duplicates > 0 && valid == 0)
    throw CLI::ValidationError("duplicates need at least one valid line to copy; lower the fractions");

  std::vector<ContextPtr> key_contexts;
  for (unsigned i = 0; i < opt.threads; ++i) key_contexts.push_back(make_context());
  const Authors authors = make_authors(opt.seed, opt.authors, key_contexts);
  key_contexts.clear();

  const EventMaker maker(authors, opt.seed, start, static_cast<std::int64_t>(opt.days) * 86400);
  std::vector<Signer> signers;
  signers.reserve(opt.threads);
  for (unsigned i = 0; i < opt.threads; ++i) signers.emplace_back(authors, maker, opt.seed);

  Output out(opt.output);
  Rng planner(opt.seed, Stream::planner, 0);
  auto totals = std::make_unique<Totals>();

  // Duplicates copy from a uniform reservoir sample of all earlier valid lines (bounded memory).
  constexpr std::size_t kReservoir = 1 << 15;
  std::vector<std::string> reservoir;
  std::uint64_t valid_seen = 0;

  constexpr std::size_t kBatch = 1 << 14;
  std::vector<LineKind> plan;
  struct Job {
    std::uint64_t unique_index;
    bool invalid;
  };
  std::vector<Job> jobs;
  std::vector<std::string> lines;
  std::vector<Signer::Generated> generated;
  std::string buffer;

  std::uint64_t left_valid = valid, left_invalid = invalid, left_dup = duplicates, next_unique = 0;
  for (std::uint64_t done = 0; done < total;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kBatch, total - done));
    // Plan: sequential sampling gives exact counts with every arrangement equally likely, except that
    // no duplicate may come before the first valid line.
    plan.clear();
    jobs.clear();
    for (std::size_t i = 0; i < n; ++i) {
      // Until a valid line is planned there is nothing to copy: draw among valid and invalid only.
      const std::uint64_t dup_pool = left_valid < valid ? left_dup : 0;
      const std::uint64_t r = planner.below(left_valid + left_invalid + dup_pool);
      const LineKind kind = r < left_valid                  ? LineKind::valid
                            : r < left_valid + left_invalid ? LineKind::invalid
                                                            : LineKind::duplicate;
      (kind == LineKind::valid ? left_valid : kind == LineKind::invalid ? left_invalid : left_dup)--;
      plan.push_back(kind);
      if (kind != LineKind::duplicate) jobs.push_back({next_unique++, kind == LineKind::invalid});
    }

    if (lines.size() < jobs.size()) lines.resize(jobs.size());
    generated.resize(jobs.size());
    parallel_for(opt.threads, jobs.size(), [&](unsigned worker, std::size_t j) {
      generated[j] = signers[worker].generate(jobs[j].unique_index, jobs[j].invalid, lines[j]);
    });

    buffer.clear();
    std::size_t j = 0;
    for (const LineKind kind : plan) {
      if (kind == LineKind::duplicate) {
        buffer.append(reservoir[planner.below(reservoir.size())]);
        ++totals->duplicates;
      } else {
        const std::string& line = lines[j];
        buffer.append(line);
        if (kind == LineKind::valid) {
          ++totals->valid;
          ++totals->kinds[static_cast<std::size_t>(generated[j].kind)];
          ++valid_seen;
          if (duplicates > 0) {  // keep the sample only when something will read it
            if (reservoir.size() < kReservoir) {
              reservoir.push_back(line);
            } else if (const auto slot = planner.below(valid_seen); slot < kReservoir) {
              reservoir[slot] = line;
            }
          }
        } else {
          ++totals->invalid;
          ++totals->defects[static_cast<std::size_t>(generated[j].defect)];
        }
        ++j;
      }
      buffer.push_back('\n');
    }
    out.write(buffer);
    totals->bytes += buffer.size();
    done += n;
  }
  out.close();
  totals->lines = total;

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!opt.stats_path.empty()) {
    Output stats(opt.stats_path);
    stats.write(stats_json(*totals, opt.seed));
    stats.close();
  }
  if (!opt.quiet) {
    std::fprintf(stderr,
                 "pb-gen-corpus: %llu lines (%llu valid unique, %llu duplicates, %llu invalid), %.1f MB "
                 "in %.2f s: %.0f lines/s, %.1f MB/s, %u threads\n",
                 static_cast<unsigned long long>(total), static_cast<unsigned long long>(totals->valid),
                 static_cast<unsigned long long>(totals->duplicates),
                 static_cast<unsigned long long>(totals->invalid), static_cast<double>(totals->bytes) / 1e6,
                 seconds, static_cast<double>(total) / seconds, static_cast<double>(totals->bytes) / 1e6 / seconds,
                 opt.threads);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{
      "pb-gen-corpus: generate a realistic, signed NIP-01 event corpus as JSONL (one event per line).\n"
      "Output depends only on the options, never on --threads: the same seed gives the same bytes."};
  app.add_option("-n,--events", opt.events, "Number of lines to write (duplicates and invalid lines included)")
      ->capture_default_str();
  app.add_option("-s,--seed", opt.seed, "PRNG seed: keys, content, aux signing randomness and layout")
      ->capture_default_str();
  app.add_option("-a,--authors", opt.authors, "Number of distinct keys (activity is skewed: few busy authors)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}));
  app.add_option("--duplicate-fraction", opt.duplicate_fraction,
                 "Fraction of lines that are byte-exact copies of an earlier valid line, spread randomly")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--invalid-fraction", opt.invalid_fraction,
                 "Fraction of lines with exactly one defect (bad sig, wrong id, bad field/kind/tag, "
                 "truncated JSON, lone surrogate)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("-d,--days", opt.days, "created_at spread uniformly over this many UTC days")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100000u));
  app.add_option("--start-date", opt.start_date, "First UTC day (YYYY-MM-DD)")->capture_default_str();
  app.add_option("-j,--threads", opt.threads, "Signing threads (default: all cores)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1024u));
  app.add_option("-o,--output", opt.output, "Output file ('-' = stdout)")->capture_default_str();
  app.add_option("--stats", opt.stats_path,
                 "Write the expected outcome as JSON (valid/duplicate/invalid counts, rejections by category)");
  app.add_flag("-q,--quiet", opt.quiet, "No summary line on stderr");
  app.footer(
      "Kinds (per mille of unique events): 1 text note 600, 7 reaction 190, 6 repost 60, 0 metadata 40,\n"
      "3 contact list 30 (5..600 p tags), 10002 relay list 25, 30023 long-form 20, 4 DM 20, 5 deletion 15.\n"
      "Content is 10 B to a few KB with unicode, emoji, newlines, quotes, links and rare control bytes.\n"
      "Example: pb-gen-corpus -n 1000000 --days 7 --duplicate-fraction 0.2 --invalid-fraction 0.01 -o c.jsonl");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(opt);
  } catch (const CLI::Error& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pb-gen-corpus: %s\n", e.what());
    return 1;
  }
}
