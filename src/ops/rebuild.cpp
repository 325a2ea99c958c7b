#include "ops/rebuild.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "archive/index.hpp"
#include "archive/lock.hpp"
#include "archive/writer.hpp"
#include "archive/day.hpp"
#include "archive/day_file_reader.hpp"
#include <fcntl.h>

#include "base/posix_file.hpp"
#include "archive/proto_codec.hpp"

namespace pb {
namespace {

namespace fs = std::filesystem;

// What one day file contributes, decoded by a worker (the file name is implied).
struct CompactRow {
  Id32 id, pubkey;
  std::int64_t created_at;
  std::int32_t kind;
  std::uint64_t member_offset;
  std::vector<IndexTag> tags;  // for the tag index
};

struct FileResult {
  std::vector<CompactRow> rows;
  std::uint64_t records = 0, undecodable = 0, size = 0;
  std::optional<std::string> damage;
};

FileResult decode_file(const fs::path& path) {
  FileResult r;
  r.size = fs::file_size(path);
  DayFileReader reader(path);
  Event ev;
  while (auto rec = reader.next()) {
    ++r.records;
    if (decode_proto_event(*rec, ev)) {
      ++r.undecodable;
      continue;
    }
    r.rows.push_back({ev.id, ev.pubkey, ev.created_at, ev.kind, reader.record_member_offset(), index_tags(ev)});
  }
  if (const auto& d = reader.damage())
    r.damage = fmt::format("{}: damaged at byte {}: {}", path.filename().string(), d->offset, d->message);
  return r;
}

void remove_sqlite_files(const fs::path& db) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(db.string() + suffix);
}

}  // namespace

RebuildStats rebuild_index(const RebuildOptions& opt, const RebuildProgress& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!fs::is_directory(opt.dir)) throw std::runtime_error(fmt::format("{}: not an archive folder", opt.dir.string()));
  const ArchiveLock lock = ArchiveLock::acquire(opt.dir, ArchiveLock::Kind::exclusive);
  const fs::path index_path = opt.index_path.empty() ? opt.dir / "index.db" : opt.index_path;
  const fs::path tmp_path = index_path.string() + ".rebuild";

  std::vector<fs::path> files;
  std::uint64_t total_bytes = 0;
  for (const auto& e : fs::directory_iterator(opt.dir))
    if (e.is_regular_file() && parse_day_file_name(e.path().filename().string())) {
      files.push_back(e.path());
      total_bytes += e.file_size();
    }
  std::sort(files.begin(), files.end());

  remove_sqlite_files(tmp_path);
  RebuildStats stats;
  stats.files = files.size();
  {
    ArchiveIndex index = ArchiveIndex::open(tmp_path, ArchiveIndex::Mode::read_write);
    const unsigned n = opt.threads ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
    index.begin_bulk_load(n);
    index.begin();

    // Workers decode files in parallel; this thread inserts them strictly in name order, so which copy
    // of a duplicated id is indexed never depends on timing. A window bounds the files held in memory.
    const std::size_t window = n + 1;
    std::vector<std::optional<FileResult>> results(files.size());
    std::mutex mu;
    std::condition_variable cv;
    std::size_t next_insert = 0;  // guarded by mu
    std::atomic<std::size_t> next_claim{0};
    std::exception_ptr error;
    {
      std::vector<std::jthread> workers;
      for (unsigned w = 0; w < n; ++w) {
        workers.emplace_back([&] {
          for (;;) {
            const std::size_t i = next_claim++;
            if (i >= files.size()) return;
            {
              std::unique_lock l(mu);
              cv.wait(l, [&] { return i < next_insert + window || error; });
              if (error) return;
            }
            FileResult r;
            try {
              r = decode_file(files[i]);
            } catch (...) {
              std::lock_guard l(mu);
              if (!error) error = std::current_exception();
              cv.notify_all();
              return;
            }
            std::lock_guard l(mu);
            results[i] = std::move(r);
            cv.notify_all();
          }
        });
      }
      const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
      IndexRow row;
      row.indexed_at = now;
      try {
        for (std::size_t i = 0; i < files.size(); ++i) {
          FileResult r;
          {
            std::unique_lock l(mu);
            cv.wait(l, [&] { return results[i].has_value() || error; });
            if (error) break;
            r = std::move(*results[i]);
            results[i].reset();
          }
          row.file_name = files[i].filename().string();
          std::uint64_t indexed = 0;
          for (const CompactRow& c : r.rows) {
            row.id = c.id;
            row.pubkey = c.pubkey;
            row.created_at = c.created_at;
            row.kind = c.kind;
            row.member_offset = c.member_offset;
            row.tags = c.tags;
            if (index.insert_if_absent(row)) ++indexed;
            else ++stats.duplicates;
          }
          // The file as it is now is what the index covers; a damaged tail stays until verify --repair.
          index.set_file({row.file_name, r.size, indexed});
          stats.records += r.records;
          stats.undecodable += r.undecodable;
          stats.events += indexed;
          stats.bytes += r.size;
          if (r.damage) stats.damaged.push_back(*r.damage);
          {
            std::lock_guard l(mu);
            next_insert = i + 1;
          }
          cv.notify_all();
          if (progress) progress(stats.records, stats.bytes, total_bytes);
        }
      } catch (...) {
        std::lock_guard l(mu);
        if (!error) error = std::current_exception();
        cv.notify_all();
      }
    }
    if (error) {
      index.rollback();
      std::rethrow_exception(error);
    }
    index.set_meta(kCommitSeqKey, "0");
    index.commit();
    index.end_bulk_load();
  }
  // The rebuilt index describes the files as they are, so a crashed writer's journal no longer applies
  // (empty it before the rename: if we die in between, the old index plus the files-longer-than-committed
  // rule still hold).
  if (fs::exists(opt.dir / kJournalFileName)) truncate_to(opt.dir / kJournalFileName, 0);
  {
    // Fold the old index's WAL into it before replacing it, so removing the WAL can never drop a
    // committed transaction of an index we fail to replace.
    std::error_code ec;
    if (fs::exists(index_path, ec)) {
      try {
        ArchiveIndex old = ArchiveIndex::open(index_path, ArchiveIndex::Mode::read_write);
      } catch (const std::exception&) {
        // A corrupt or foreign old index: nothing to preserve.
      }
    }
  }
  {
    UniqueFd fd = open_or_throw(tmp_path, O_RDONLY);
    sync_data(fd.get(), tmp_path);
  }
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(index_path.string() + suffix);
  fs::rename(tmp_path, index_path);
  stats.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

}  // namespace pb
