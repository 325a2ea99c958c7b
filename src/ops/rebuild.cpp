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

#include "base/bounded_queue.hpp"
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

FileResult decode_file(const fs::path& path, Sha256Hasher& hasher) {
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
    r.rows.push_back({ev.id, ev.pubkey, ev.created_at, ev.kind, reader.record_member_offset(), index_tags(ev, hasher)});
  }
  if (const auto& d = reader.damage())
    r.damage = fmt::format("{}: damaged at byte {}: {}", path.filename().string(), d->offset, d->message);
  return r;
}

// Removes a database and its side files; throws unless given `ec`, which then holds the last error.
void remove_sqlite_files(const fs::path& db, std::error_code* ec = nullptr) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    if (ec)
      fs::remove(db.string() + suffix, *ec);
    else
      fs::remove(db.string() + suffix);
  }
}

// The archive's day files, by name, and their total size.
std::vector<fs::path> list_day_files(const fs::path& dir, std::uint64_t& total_bytes) {
  std::vector<fs::path> files;
  total_bytes = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && parse_day_file_name(e.path().filename().string())) {
      files.push_back(e.path());
      total_bytes += e.file_size();
    }
  std::sort(files.begin(), files.end());
  return files;
}

// Workers decode files in parallel; next() hands the results out strictly in file order, so which copy
// of a duplicated id is indexed never depends on timing. A window bounds the files held in memory.
class OrderedDecoder {
 public:
  OrderedDecoder(const std::vector<fs::path>& files, unsigned threads)
      : files_(files), window_(threads + 1), results_(files.size()) {
    for (unsigned w = 0; w < threads; ++w) workers_.emplace_back([this] { work(); });
  }
  ~OrderedDecoder() { stop(); }
  OrderedDecoder(const OrderedDecoder&) = delete;
  OrderedDecoder& operator=(const OrderedDecoder&) = delete;

  // The result for file i (call for i = 0, 1, 2, ... in order). Rethrows a worker's exception.
  FileResult next(std::size_t i) {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return results_[i].has_value() || error_; });
    if (error_) std::rethrow_exception(error_);
    FileResult r = std::move(*results_[i]);
    results_[i].reset();
    next_insert_ = i + 1;
    cv_.notify_all();
    return r;
  }

  // Makes the workers give up (after a failure on the inserting side) and joins them.
  void stop() {
    {
      std::lock_guard l(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    workers_.clear();
  }

 private:
  void work() {
    Sha256Hasher hasher;
    for (;;) {
      const std::size_t i = next_claim_++;
      if (i >= files_.size()) return;
      {
        std::unique_lock l(mu_);
        cv_.wait(l, [&] { return i < next_insert_ + window_ || error_ || stopping_; });
        if (error_ || stopping_) return;
      }
      try {
        FileResult r = decode_file(files_[i], hasher);
        std::lock_guard l(mu_);
        results_[i] = std::move(r);
      } catch (...) {
        std::lock_guard l(mu_);
        if (!error_) error_ = std::current_exception();
      }
      cv_.notify_all();
    }
  }

  const std::vector<fs::path>& files_;
  const std::size_t window_;
  std::vector<std::optional<FileResult>> results_;  // guarded by mu_
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t next_insert_ = 0;  // guarded by mu_
  bool stopping_ = false;        // guarded by mu_
  std::exception_ptr error_;     // guarded by mu_
  std::atomic<std::size_t> next_claim_{0};
  std::vector<std::jthread> workers_;  // last: joined first
};

// The tag rows of one event, for the tag thread.
struct TagJob {
  std::int64_t seq = 0, created_at = 0;
  std::int32_t kind = 0;
  std::vector<IndexTag> tags;
};

// Builds the tags B-tree (~7 of an event's ~12 B-tree entries on a typical corpus) on a thread of its
// own, in a scratch index beside the new one, while the inserting thread writes the events rows; the
// new index copies it in at the end (ArchiveIndex::import_tags). Jobs arrive one day file at a time.
class TagThread {
 public:
  TagThread(fs::path scratch, std::optional<std::uint64_t> fail_after)
      : scratch_(std::move(scratch)), fail_after_(fail_after) {
    remove_sqlite_files(scratch_);
    thread_ = std::jthread([this] { run(); });
  }
  ~TagThread() {
    queue_.close();
    if (thread_.joinable()) thread_.join();
    std::error_code ec;  // a destructor does not throw; a leftover is removed by the next rebuild
    remove_sqlite_files(scratch_, &ec);
  }
  TagThread(const TagThread&) = delete;
  TagThread& operator=(const TagThread&) = delete;

  void add(std::vector<TagJob> jobs) {
    if (failed_) finish();  // rethrows the thread's error
    queue_.push(std::move(jobs));
  }
  // Waits for the scratch index to be committed and closed; rethrows the thread's error.
  const fs::path& finish() {
    queue_.close();
    if (thread_.joinable()) thread_.join();
    if (error_) std::rethrow_exception(error_);
    return scratch_;
  }

 private:
  void run() {
    try {
      ArchiveIndex tags = ArchiveIndex::open(scratch_, ArchiveIndex::Mode::read_write, kScratchCacheKiB);
      tags.begin_bulk_load(1);
      tags.begin();
      for (std::uint64_t files = 0; auto jobs = queue_.pop(); ++files) {
        if (fail_after_ && files >= *fail_after_)
          throw std::runtime_error("tag index: injected failure (PB_FAULT_REBUILD_TAGS_AFTER)");
        for (const TagJob& j : *jobs) tags.insert_tags(j.seq, j.created_at, j.kind, j.tags);
      }
      tags.commit();
    } catch (...) {
      error_ = std::current_exception();
      failed_ = true;
      while (queue_.pop()) {  // keep the inserting thread from blocking until it notices
      }
    }
  }

  static constexpr std::size_t kScratchCacheKiB = 128 * 1024;
  const fs::path scratch_;
  const std::optional<std::uint64_t> fail_after_;
  BoundedQueue<std::vector<TagJob>> queue_{4};
  std::exception_ptr error_;  // written by the thread before failed_, read after join
  std::atomic<bool> failed_{false};
  std::jthread thread_;  // last: started after the members it uses
};

// Inserts one file's rows; the first copy of an id (by file name order) wins. Their tag rows go to `tags`.
void index_file(ArchiveIndex& index, TagThread& tags, const fs::path& file, FileResult&& r, RebuildStats& stats) {
  IndexRow row;  // without tags: they go to the tag thread
  row.file_name = file.filename().string();
  std::vector<TagJob> jobs;
  jobs.reserve(r.rows.size());
  for (CompactRow& c : r.rows) {
    if (index.contains(c.id)) {
      ++stats.duplicates;
      continue;
    }
    row.id = c.id;
    row.pubkey = c.pubkey;
    row.created_at = c.created_at;
    row.kind = c.kind;
    row.member_offset = c.member_offset;
    jobs.push_back({index.insert_new(row), c.created_at, c.kind, std::move(c.tags)});
  }
  const std::uint64_t indexed = jobs.size();
  tags.add(std::move(jobs));
  // The file as it is now is what the index covers; a damaged tail stays until verify --repair.
  index.set_file({row.file_name, r.size, indexed});
  stats.records += r.records;
  stats.undecodable += r.undecodable;
  stats.events += indexed;
  stats.bytes += r.size;
  if (r.damage) stats.damaged.push_back(*r.damage);
}

// Builds the new index at tmp_path from the files, bulk-loaded (query indexes built at the end, tags on a
// thread of their own). The old index's relay cursors (proton-beam-daemon's resume points) are carried
// over: every event they cover is in the day files, so in the new index too.
void build_index(const fs::path& tmp_path, const fs::path& old_index, const std::vector<fs::path>& files,
                 std::uint64_t total_bytes, const RebuildOptions& opt, unsigned threads, RebuildStats& stats,
                 const RebuildProgress& progress) {
  ArchiveIndex index = ArchiveIndex::open(tmp_path, ArchiveIndex::Mode::read_write);
  index.begin_bulk_load(threads);
  TagThread tags(tmp_path.string() + "-tags", opt.fail_tags_after);
  index.begin();
  for (const auto& [url, cursor] : read_any_relay_cursors(old_index)) index.set_relay_cursor(url, cursor);
  try {
    OrderedDecoder decoder(files, threads);
    for (std::size_t i = 0; i < files.size(); ++i) {
      index_file(index, tags, files[i], decoder.next(i), stats);
      if (progress) progress(stats.records, stats.bytes, total_bytes);
    }
  } catch (...) {
    index.rollback();
    throw;
  }
  index.set_meta(kCommitSeqKey, "0");
  index.commit();
  index.import_tags(tags.finish());
  index.end_bulk_load();
}

// Renames the new index over the old one; a crash leaves the old index or the new one.
void replace_index(const fs::path& dir, const fs::path& tmp_path, const fs::path& index_path) {
  // The rebuilt index describes the files as they are, so a crashed writer's journal no longer applies
  // (empty it before the rename: if we die in between, the old index plus the files-longer-than-committed
  // rule still hold).
  if (fs::exists(dir / kJournalFileName)) truncate_to(dir / kJournalFileName, 0);
  // Fold the old index's WAL into it before replacing it, so removing the WAL can never drop a
  // committed transaction of an index we fail to replace.
  std::error_code ec;
  if (fs::exists(index_path, ec)) {
    try {
      ArchiveIndex old = ArchiveIndex::open(index_path, ArchiveIndex::Mode::read_write);
    } catch (const std::exception&) {
      // A corrupt, foreign or older-version index: nothing to preserve.
    }
  }
  {
    UniqueFd fd = open_or_throw(tmp_path, O_RDONLY);
    sync_data(fd.get(), tmp_path);
  }
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(index_path.string() + suffix);
  fs::rename(tmp_path, index_path);
}

}  // namespace

RebuildStats rebuild_index(const RebuildOptions& opt, const RebuildProgress& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!fs::is_directory(opt.dir)) throw std::runtime_error(fmt::format("{}: not an archive folder", opt.dir.string()));
  const ArchiveLock lock = ArchiveLock::acquire(opt.dir, ArchiveLock::Kind::exclusive);
  const fs::path index_path = opt.index_path.empty() ? opt.dir / "index.db" : opt.index_path;
  const fs::path tmp_path = index_path.string() + ".rebuild";

  std::uint64_t total_bytes = 0;
  const std::vector<fs::path> files = list_day_files(opt.dir, total_bytes);
  remove_sqlite_files(tmp_path);
  RebuildStats stats;
  stats.files = files.size();
  const unsigned threads = opt.threads ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
  try {
    build_index(tmp_path, index_path, files, total_bytes, opt, threads, stats, progress);
  } catch (...) {
    std::error_code ec;  // a failed build leaves nothing beside the old index
    remove_sqlite_files(tmp_path, &ec);
    throw;
  }
  replace_index(opt.dir, tmp_path, index_path);
  stats.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

}  // namespace pb
