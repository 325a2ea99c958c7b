#include "ops/stats.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

#include "archive/committed_files.hpp"
#include "archive/day.hpp"
#include "nostr/json_writer.hpp"
#include "archive/proto_codec.hpp"

namespace pb {
namespace {

struct FileScan {
  std::uint64_t events = 0;
  std::uint64_t json_bytes = 0;
  std::uint64_t proto_bytes = 0;
  std::vector<std::string> problems;
  std::uint64_t problem_count = 0;

  void problem(std::string message) {
    ++problem_count;
    if (problems.size() < kMaxProblemMessages) problems.push_back(std::move(message));
  }
};

std::uint64_t varint_size(std::uint64_t v) {
  std::uint64_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

std::uint64_t size_or_zero(const std::filesystem::path& p) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(p, ec);
  return ec ? 0 : n;
}

// Decodes every committed record of one file; `done` advances by compressed bytes as members are passed.
FileScan scan_file(const std::filesystem::path& path, std::uint64_t committed, std::atomic<std::uint64_t>& done) {
  FileScan r;
  Event ev;
  std::string json;
  std::uint64_t counted = 0;  // compressed bytes of this file already added to `done`
  const auto name = path.filename().string();
  auto problem = read_committed_records(path, committed, [&](std::string_view rec, std::uint64_t member) {
    if (member > counted) {
      done += member - counted;
      counted = member;
    }
    if (auto err = decode_proto_event(rec, ev)) {
      r.problem(name + ": a record in the member at offset " + std::to_string(member) + " does not decode: " + *err);
      return true;
    }
    ++r.events;
    json.clear();
    append_event_json(json, ev);
    r.json_bytes += json.size();
    r.proto_bytes += varint_size(rec.size()) + rec.size();
    return true;
  });
  if (problem) r.problem(std::move(*problem));
  done += committed - std::min(counted, committed);
  return r;
}

// One worker per core, each taking the next file: files are independent gzip streams, so a scan of many
// days scales with cores. (One huge day file is still read by one thread.)
std::vector<FileScan> scan_files(const std::filesystem::path& dir, const std::vector<CommittedDayFile>& files,
                                 const ArchiveStatsOptions& opt, std::uint64_t total) {
  std::vector<FileScan> results(files.size());
  if (files.empty()) return results;
  unsigned n = opt.threads ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
  n = static_cast<unsigned>(std::min<std::size_t>(n, files.size()));

  std::atomic<std::size_t> next{0};
  std::atomic<std::uint64_t> done{0};
  std::mutex m;
  std::condition_variable cv;
  unsigned finished = 0;
  {
    std::vector<std::jthread> workers;
    workers.reserve(n);
    for (unsigned w = 0; w < n; ++w) {
      workers.emplace_back([&] {
        for (std::size_t k; (k = next++) < files.size();) {
          try {
            results[k] = scan_file(dir / files[k].name, files[k].committed_bytes, done);
          } catch (const std::exception& e) {  // e.g. out of memory: report the file, scan the others
            results[k].problem(files[k].name + ": " + e.what());
          }
        }
        {
          std::lock_guard lock(m);
          ++finished;
        }
        cv.notify_one();
      });
    }
    std::unique_lock lock(m);
    while (finished < n) {
      cv.wait_for(lock, std::chrono::milliseconds(100));
      if (opt.on_progress) {
        lock.unlock();
        opt.on_progress(done.load(), total);
        lock.lock();
      }
    }
  }  // workers joined
  return results;
}

}  // namespace

ArchiveStats collect_archive_stats(const std::filesystem::path& dir, const ArchiveStatsOptions& opt) {
  ArchiveIndex index = open_archive_index(dir);
  ArchiveStats s;
  s.events = index.count();
  s.kinds = index.kind_counts();
  s.distinct_authors = index.distinct_authors();
  s.created_at = index.created_at_range();

  const auto files = committed_day_files(index);
  s.day_files = files.size();
  if (!files.empty()) {
    s.first_day = files.front().day;
    s.last_day = files.back().day;
  }
  std::set<std::string> known;
  for (const auto& f : files) {
    known.insert(f.name);
    s.committed_bytes += f.committed_bytes;
    s.day_file_bytes += size_or_zero(dir / f.name);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) s.index_bytes += size_or_zero(dir / ("index.db" + std::string(suffix)));
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (parse_day_file_name(name) && !known.contains(name)) ++s.unindexed_day_files;
  }

  if (!opt.scan) return s;
  s.scanned = true;
  for (auto& r : scan_files(dir, files, opt, s.committed_bytes)) {
    s.scanned_events += r.events;
    s.json_bytes += r.json_bytes;
    s.proto_bytes += r.proto_bytes;
    s.problem_count += r.problem_count;
    for (auto& p : r.problems)
      if (s.problems.size() < kMaxProblemMessages) s.problems.push_back(std::move(p));
  }
  return s;
}

}  // namespace pb
