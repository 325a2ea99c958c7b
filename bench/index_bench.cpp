// Micro-benchmarks of index.db (src/core/archive_index.cpp): batched inserts into a growing table, and id
// lookups (hit and miss) through a read-only connection as convert's workers do. Numbers: docs/index.md.
#include <benchmark/benchmark.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "archive/index.hpp"

namespace {

namespace fs = std::filesystem;
using pb::ArchiveIndex;
using pb::Id32;
using pb::IndexRow;

class BenchDir {
 public:
  BenchDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("pb_index_bench_" + std::to_string(std::random_device{}()) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~BenchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;
  fs::path db() const { return path_ / "index.db"; }

 private:
  fs::path path_;
};

Id32 random_id(std::mt19937_64& rng) {
  Id32 id{};
  for (std::size_t i = 0; i < id.size(); i += 8) {
    const auto v = rng();
    for (std::size_t j = 0; j < 8; ++j) id[i + j] = static_cast<std::uint8_t>(v >> (8 * j));
  }
  return id;
}

// Rows shaped like relay data: random ids, a few thousand authors, common kinds, a year of timestamps.
class RowGen {
 public:
  explicit RowGen(std::uint64_t seed) : rng_(seed) {
    for (int i = 0; i < 5000; ++i) authors_.push_back(random_id(rng_));
  }
  IndexRow next() {
    static constexpr std::int32_t kKinds[] = {1, 1, 1, 1, 7, 7, 7, 0, 3, 6, 9735, 10002, 30023, 5};
    IndexRow r;
    r.id = random_id(rng_);
    r.pubkey = authors_[rng_() % authors_.size()];
    r.created_at = 1'700'000'000 + static_cast<std::int64_t>(rng_() % (365 * 86400));
    r.kind = kKinds[rng_() % std::size(kKinds)];
    r.file_name = "2024_01_01.pb.gz";
    r.member_offset = rng_() % 400'000'000;
    return r;
  }
  const std::vector<Id32>& authors() const { return authors_; }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
  std::vector<Id32> authors_;
};

// Each iteration is one transaction of range(0) rows; the table keeps growing across iterations, so the
// rate is the average over 0 .. iterations*batch rows.
void BM_IndexInsertBatch(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  BenchDir dir;
  auto idx = ArchiveIndex::open(dir.db(), ArchiveIndex::Mode::read_write);
  RowGen gen(1);
  std::vector<IndexRow> rows(batch);
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& r : rows) r = gen.next();
    state.ResumeTiming();
    idx.begin();
    for (const auto& r : rows) benchmark::DoNotOptimize(idx.insert_if_absent(r));
    idx.commit();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
  state.counters["rows_at_end"] = static_cast<double>(idx.count());
}
BENCHMARK(BM_IndexInsertBatch)->Arg(10'000)->Iterations(10)->Unit(benchmark::kMillisecond);

// One pre-filled index shared by the lookup benchmarks (built once, removed at exit).
struct Filled {
  static constexpr std::size_t kRows = 100'000;
  BenchDir dir;
  std::vector<Id32> ids;
  std::vector<Id32> authors;
  Filled() {
    auto idx = ArchiveIndex::open(dir.db(), ArchiveIndex::Mode::read_write);
    RowGen gen(2);
    authors = gen.authors();
    idx.begin();
    for (std::size_t i = 0; i < kRows; ++i) {
      const auto r = gen.next();
      idx.insert_if_absent(r);
      ids.push_back(r.id);
    }
    idx.commit();
  }
};
Filled& filled() {
  static Filled f;
  return f;
}

void BM_IndexContainsHit(benchmark::State& state) {
  auto& f = filled();
  auto idx = ArchiveIndex::open(f.dir.db(), ArchiveIndex::Mode::read_only);
  std::mt19937_64 rng(3);
  std::vector<Id32> probe(4096);
  for (auto& p : probe) p = f.ids[rng() % f.ids.size()];
  std::size_t i = 0, hits = 0;
  for (auto _ : state) hits += idx.contains(probe[i++ & 4095]);
  if (hits != static_cast<std::size_t>(state.iterations())) state.SkipWithError("a present id was not found");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IndexContainsHit);

void BM_IndexContainsMiss(benchmark::State& state) {
  auto& f = filled();
  auto idx = ArchiveIndex::open(f.dir.db(), ArchiveIndex::Mode::read_only);
  std::mt19937_64 rng(4);
  std::vector<Id32> probe(4096);
  for (auto& p : probe) p = random_id(rng);
  std::size_t i = 0, hits = 0;
  for (auto _ : state) hits += idx.contains(probe[i++ & 4095]);
  if (hits != 0) state.SkipWithError("an absent id was found");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IndexContainsMiss);

void BM_IndexGet(benchmark::State& state) {
  auto& f = filled();
  auto idx = ArchiveIndex::open(f.dir.db(), ArchiveIndex::Mode::read_only);
  std::mt19937_64 rng(5);
  std::vector<Id32> probe(4096);
  for (auto& p : probe) p = f.ids[rng() % f.ids.size()];
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(idx.get(probe[i++ & 4095]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IndexGet);

// A typical client request: one author's newest 100 events.
void BM_IndexQueryAuthorNewest100(benchmark::State& state) {
  auto& f = filled();
  auto idx = ArchiveIndex::open(f.dir.db(), ArchiveIndex::Mode::read_only);
  std::mt19937_64 rng(6);
  std::size_t rows = 0;
  for (auto _ : state) {
    pb::IndexQuery q;
    q.authors = {f.authors[rng() % f.authors.size()]};
    q.limit = 100;
    rows += idx.query(q).size();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["rows_per_query"] = static_cast<double>(rows) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_IndexQueryAuthorNewest100);

}  // namespace
