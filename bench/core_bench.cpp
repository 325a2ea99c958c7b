// Core per-event costs on the 150 real sample events (tests/data/sample_events.jsonl): JSON parse,
// canonical id (serialization + SHA-256), BIP-340 verify (the hardware limit of validated conversion),
// full validation, protobuf encode/decode and JSON write. Numbers: docs/benchmarks.md.
#include <benchmark/benchmark.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "nostr/canonical.hpp"
#include "nostr/crypto.hpp"
#include "nostr/event.hpp"
#include "nostr/json_parse.hpp"
#include "nostr/json_writer.hpp"
#include "archive/proto_codec.hpp"
#include "nostr/validate.hpp"
#include "proto/nostr.pb.h"

namespace {

struct Samples {
  std::vector<std::string> lines;  // the JSON text, as read
  std::vector<pb::Event> events;   // parsed, all valid (id and signature checked at load)
  std::size_t json_bytes = 0;
};

// Loaded once, immutable afterwards.
const Samples& samples() {
  static const Samples s = [] {
    Samples out;
    std::ifstream in(std::filesystem::path(PB_TEST_DATA_DIR) / "sample_events.jsonl", std::ios::binary);
    pb::EventParser parser;
    pb::EventValidator validator;
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      pb::Event ev;
      if (parser.parse(line, ev) || validator.validate(ev)) continue;  // keep valid events only
      out.json_bytes += line.size();
      out.lines.push_back(std::move(line));
      out.events.push_back(std::move(ev));
    }
    if (out.events.empty()) throw std::runtime_error("no valid sample events in " PB_TEST_DATA_DIR);
    return out;
  }();
  return s;
}

void set_per_event(benchmark::State& state, std::size_t events_per_iter, std::size_t bytes_per_iter = 0) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events_per_iter));
  if (bytes_per_iter) state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes_per_iter));
}

// --- JSON parse (simdjson + strict NIP-01 field checks), all sample lines per iteration.
void BM_JsonParse(benchmark::State& state) {
  const Samples& s = samples();
  pb::EventParser parser;
  pb::Event ev;
  for (auto _ : state) {
    for (const auto& line : s.lines) {
      auto rejection = parser.parse(line, ev);
      benchmark::DoNotOptimize(rejection);
    }
    benchmark::ClobberMemory();
  }
  set_per_event(state, s.lines.size(), s.json_bytes);
}
BENCHMARK(BM_JsonParse);

// --- Canonical serialization + SHA-256 (the event id).
void BM_CanonicalId(benchmark::State& state) {
  const Samples& s = samples();
  std::string scratch;
  std::size_t canonical_bytes = 0;
  for (const auto& ev : s.events) {
    scratch.clear();
    pb::append_canonical(scratch, ev);
    canonical_bytes += scratch.size();
  }
  for (auto _ : state) {
    for (const auto& ev : s.events) {
      auto id = pb::compute_event_id(ev, scratch);
      benchmark::DoNotOptimize(id);
    }
  }
  set_per_event(state, s.events.size(), canonical_bytes);
}
BENCHMARK(BM_CanonicalId);

// --- Canonical serialization alone, to split the id cost between escaping and hashing.
void BM_CanonicalSerialize(benchmark::State& state) {
  const Samples& s = samples();
  std::string out;
  std::size_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    for (const auto& ev : s.events) {
      out.clear();
      pb::append_canonical(out, ev);
      bytes += out.size();
      benchmark::DoNotOptimize(out.data());
    }
  }
  set_per_event(state, s.events.size(), bytes);
}
BENCHMARK(BM_CanonicalSerialize);

// --- Raw SHA-256 throughput (OpenSSL; SHA-NI where the CPU has it).
void BM_Sha256(benchmark::State& state) {
  const std::vector<std::uint8_t> data(static_cast<std::size_t>(state.range(0)), 0x5a);
  for (auto _ : state) {
    auto digest = pb::sha256(data);
    benchmark::DoNotOptimize(digest);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Sha256)->Arg(40)->Arg(256)->Arg(4096);

// --- The same through a reused Sha256Hasher (what ids and tag keys use): the one-shot call above looks the
// algorithm up on every call, which dominates short inputs such as tag values.
void BM_Sha256Hasher(benchmark::State& state) {
  const std::vector<std::uint8_t> data(static_cast<std::size_t>(state.range(0)), 0x5a);
  pb::Sha256Hasher hasher;
  for (auto _ : state) {
    auto digest = hasher.digest(data);
    benchmark::DoNotOptimize(digest);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Sha256Hasher)->Arg(40)->Arg(256)->Arg(4096);

// --- Raw BIP-340 verify of one valid event's signature over its id: the hardware limit. Threads(2) shows
// what both cores give together (one verifier per thread; real time, so the rate is the machine's).
void BM_SchnorrVerify(benchmark::State& state) {
  const pb::Event& ev = samples().events.front();
  const pb::SchnorrVerifier verifier;
  for (auto _ : state) {
    const bool ok = verifier.verify(ev.sig, ev.id, ev.pubkey);
    if (!ok) {
      state.SkipWithError("sample signature did not verify");
      break;
    }
    benchmark::DoNotOptimize(ok);
  }
  set_per_event(state, 1);
}
BENCHMARK(BM_SchnorrVerify)->Threads(1)->Threads(2)->UseRealTime();

// --- BIP-340 sign (libsecp256k1 sign32 with aux randomness): what pb-gen-corpus pays per event.
void BM_SchnorrSign(benchmark::State& state) {
  struct CtxDeleter {
    void operator()(secp256k1_context* c) const { secp256k1_context_destroy(c); }
  };
  const std::unique_ptr<secp256k1_context, CtxDeleter> ctx(secp256k1_context_create(SECP256K1_CONTEXT_NONE));
  std::array<std::uint8_t, 32> secret{};
  secret.fill(0x42);
  secp256k1_keypair keypair;
  if (!secp256k1_keypair_create(ctx.get(), &keypair, secret.data())) {
    state.SkipWithError("keypair_create failed");
    return;
  }
  pb::Id32 msg = samples().events.front().id;
  std::array<std::uint8_t, 32> aux{};
  pb::Sig64 sig{};
  for (auto _ : state) {
    aux[0]++;
    const int ok = secp256k1_schnorrsig_sign32(ctx.get(), sig.data(), msg.data(), &keypair, aux.data());
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(sig);
  }
  set_per_event(state, 1);
}
BENCHMARK(BM_SchnorrSign);

// --- Full validation (id recomputed and compared, then the signature verified against it).
void BM_Validate(benchmark::State& state) {
  const Samples& s = samples();
  pb::EventValidator validator;
  std::size_t i = 0;
  for (auto _ : state) {
    auto rejection = validator.validate(s.events[i]);
    benchmark::DoNotOptimize(rejection);
    if (++i == s.events.size()) i = 0;
  }
  set_per_event(state, 1);
}
BENCHMARK(BM_Validate)->Threads(1)->Threads(2)->UseRealTime();

// --- What convert does per new event before storing it: parse + id + signature.
void BM_ParseAndValidate(benchmark::State& state) {
  const Samples& s = samples();
  pb::EventParser parser;
  pb::EventValidator validator;
  pb::Event ev;
  std::size_t i = 0;
  for (auto _ : state) {
    auto rejection = parser.parse(s.lines[i], ev);
    if (!rejection) rejection = validator.validate(ev);
    benchmark::DoNotOptimize(rejection);
    if (++i == s.lines.size()) i = 0;
  }
  set_per_event(state, 1);
}
BENCHMARK(BM_ParseAndValidate)->Threads(1)->Threads(2)->UseRealTime();

// --- Protobuf encode: varint(len) || ProtoEvent, all sample events into one buffer per iteration.
void BM_ProtoEncode(benchmark::State& state) {
  const Samples& s = samples();
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (const auto& ev : s.events) pb::append_record(out, ev);
    benchmark::DoNotOptimize(out.data());
  }
  set_per_event(state, s.events.size(), out.size());
}
BENCHMARK(BM_ProtoEncode);

std::vector<std::string> encoded_samples(std::size_t& bytes) {
  std::vector<std::string> records;
  bytes = 0;
  for (const auto& ev : samples().events) {
    std::string r;
    pb::append_proto_event(r, ev);
    bytes += r.size();
    records.push_back(std::move(r));
  }
  return records;
}

// --- Protobuf decode with our decoder (hex fields checked and decoded into the binary Event).
void BM_ProtoDecode(benchmark::State& state) {
  std::size_t bytes = 0;
  const std::vector<std::string> records = encoded_samples(bytes);
  pb::Event ev;
  for (auto _ : state) {
    for (const auto& r : records) {
      auto error = pb::decode_proto_event(r, ev);
      if (error) {
        state.SkipWithError(error->c_str());
        return;
      }
      benchmark::DoNotOptimize(ev.content.data());
    }
  }
  set_per_event(state, records.size(), bytes);
}
BENCHMARK(BM_ProtoDecode);

// --- For comparison: libprotobuf's generated parser into nostr::ProtoEvent (strings, no hex decode).
void BM_ProtoDecodeLibprotobuf(benchmark::State& state) {
  std::size_t bytes = 0;
  const std::vector<std::string> records = encoded_samples(bytes);
  nostr::ProtoEvent msg;
  for (auto _ : state) {
    for (const auto& r : records) {
      const bool ok = msg.ParseFromString(r);
      if (!ok) {
        state.SkipWithError("libprotobuf could not parse a record");
        return;
      }
      benchmark::DoNotOptimize(msg.content().data());
    }
  }
  set_per_event(state, records.size(), bytes);
}
BENCHMARK(BM_ProtoDecodeLibprotobuf);

// --- JSON write (the export path).
void BM_JsonWrite(benchmark::State& state) {
  const Samples& s = samples();
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (const auto& ev : s.events) {
      pb::append_event_json(out, ev);
      out.push_back('\n');
    }
    benchmark::DoNotOptimize(out.data());
  }
  set_per_event(state, s.events.size(), out.size());
}
BENCHMARK(BM_JsonWrite);

}  // namespace
