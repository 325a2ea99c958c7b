// Archive I/O throughput: gzip member compression (libdeflate vs zlib) and the day-file reader.
#include <benchmark/benchmark.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <stdexcept>
#include <string>

#include "archive/day_file_reader.hpp"
#include "archive/gzip_member.hpp"
#include "archive/proto_codec.hpp"

namespace {

constexpr std::size_t kPayloadBytes = 1u << 20;

// ~1 MiB of framed records whose bodies are the sample events' JSON lines: the same hex-heavy text
// (ids, pubkeys, sigs, tags) that dominates real ProtoEvent records.
const std::string& sample_payload() {
  static const std::string payload = [] {
    std::ifstream in(std::filesystem::path(PB_TEST_DATA_DIR) / "sample_events.jsonl", std::ios::binary);
    std::string out;
    std::string line;
    std::size_t lines = 0;
    while (std::getline(in, line) && out.size() < kPayloadBytes) {
      if (line.empty()) continue;
      pb::append_varint(out, line.size());
      out += line;
      ++lines;
    }
    if (lines == 0) throw std::runtime_error("no sample events in " PB_TEST_DATA_DIR);
    // Repeat, whole records only, up to 1 MiB.
    const std::string once = out;
    while (out.size() + once.size() <= kPayloadBytes) out += once;
    return out;
  }();
  return payload;
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void BM_LibdeflateGzipMember(benchmark::State& state) {
  const std::string& data = sample_payload();
  pb::GzipMemberCompressor gz(static_cast<int>(state.range(0)));
  std::string out;
  for (auto _ : state) {
    out.clear();
    gz.compress(bytes_of(data), out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
  state.counters["compressed_ratio"] = static_cast<double>(out.size()) / static_cast<double>(data.size());
}
BENCHMARK(BM_LibdeflateGzipMember)->Arg(1)->Arg(6)->Unit(benchmark::kMillisecond);

// zlib's streaming deflate as the baseline, writing the same gzip framing.
class ZlibGzipDeflater {
 public:
  explicit ZlibGzipDeflater(int level) {
    if (deflateInit2(&s_, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw std::runtime_error("deflateInit2 failed");
    }
  }
  ~ZlibGzipDeflater() { deflateEnd(&s_); }
  ZlibGzipDeflater(const ZlibGzipDeflater&) = delete;
  ZlibGzipDeflater& operator=(const ZlibGzipDeflater&) = delete;

  void compress(const std::string& in, std::string& out) {
    deflateReset(&s_);
    out.resize(deflateBound(&s_, in.size()));
    s_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    s_.avail_in = static_cast<uInt>(in.size());
    s_.next_out = reinterpret_cast<Bytef*>(out.data());
    s_.avail_out = static_cast<uInt>(out.size());
    if (deflate(&s_, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
    out.resize(out.size() - s_.avail_out);
  }

 private:
  z_stream s_{};
};

void BM_ZlibGzip(benchmark::State& state) {
  const std::string& data = sample_payload();
  ZlibGzipDeflater z(static_cast<int>(state.range(0)));
  std::string out;
  for (auto _ : state) {
    z.compress(data, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
  state.counters["compressed_ratio"] = static_cast<double>(out.size()) / static_cast<double>(data.size());
}
BENCHMARK(BM_ZlibGzip)->Arg(6)->Unit(benchmark::kMillisecond);

// A 4 MiB day file (four 1 MiB members at level 6) read end to end.
class DayFileFixture {
 public:
  DayFileFixture()
      : path_(std::filesystem::temp_directory_path() /
              ("pb-bench-reader-" + std::to_string(::getpid()) + ".pb.gz")) {
    pb::GzipMemberCompressor gz(6);
    std::string file;
    for (int i = 0; i < 4; ++i) gz.compress(bytes_of(sample_payload()), file);
    std::ofstream(path_, std::ios::binary).write(file.data(), static_cast<std::streamsize>(file.size()));
  }
  ~DayFileFixture() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  DayFileFixture(const DayFileFixture&) = delete;
  DayFileFixture& operator=(const DayFileFixture&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void BM_DayFileReader(benchmark::State& state) {
  const DayFileFixture file;
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    pb::DayFileReader reader(file.path());
    while (auto rec = reader.next()) {
      ++records;
      bytes += rec->size();
    }
    if (reader.damage()) {
      state.SkipWithError(reader.damage()->message.c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(records));  // items/s = records/s
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));    // record payload bytes/s
}
BENCHMARK(BM_DayFileReader)->Unit(benchmark::kMillisecond);

}  // namespace
