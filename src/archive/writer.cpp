#include "archive/writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <time.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <exception>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "archive/lock.hpp"
#include "archive/repair_journal.hpp"
#include "archive/day.hpp"
#include "base/posix_file.hpp"
#include "base/thread_name.hpp"

namespace pb {
namespace {

constexpr const char* kJournalName = kJournalFileName;
constexpr std::size_t kKeepCapacity = 64 << 10;  // slack reserved past a member's size
constexpr std::size_t kReserveDays = 16;          // up to this many open days, buffers are reserved whole

std::int64_t thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// An event's index fields while its member is open or being compressed: the row is inserted once the
// member is written and its offset known.
struct PendingRow {
  Id32 id{};
  Id32 pubkey{};
  std::int64_t created_at = 0;
  std::int32_t kind = 0;
  std::vector<IndexTag> tags;
};

struct DayState {
  std::string file_name;
  std::uint64_t committed_size = 0;  // length covered by committed index rows
  std::uint64_t size = 0;            // current length including uncommitted members
  std::uint64_t events = 0;          // events in the file (committed + this transaction)
  std::uint64_t committed_events = 0;
  std::string pending;               // records of the open member
  std::vector<PendingRow> rows;      // their index rows
  bool journaled = false;            // previous length recorded in this transaction's journal
  bool touched = false;              // written in this transaction
};

// A sealed member: its records and rows, then (once compressed) its gzip bytes.
struct Member {
  DayState* day = nullptr;
  std::string raw;                 // released once compressed
  std::uint64_t raw_size = 0;
  std::vector<PendingRow> rows;
  std::string gz;
  std::exception_ptr error;
  bool done = false;  // guarded by CompressPool::mu
};

// Compresses sealed members on its own threads (or inline when it has none). The writer keeps the
// members in seal order and writes each once it is done, so the output never depends on timing.
class CompressPool {
 public:
  CompressPool(int level, unsigned threads) : level_(level), inline_gz_(level) {
    for (unsigned i = 0; i < threads; ++i)
      threads_.emplace_back([this] {
        name_this_thread("pb-compress");
        run();
      });
  }
  ~CompressPool() { shutdown(); }

  bool threaded() const { return !threads_.empty(); }

  void submit(Member* m) {
    if (threads_.empty()) {
      const auto t0 = thread_cpu_ns();
      compress(inline_gz_, *m);
      const auto dt = thread_cpu_ns() - t0;
      cpu_ns_ += dt;
      inline_ns_ += dt;
      m->done = true;
      return;
    }
    std::lock_guard lock(mu_);
    tasks_.push_back(m);
    task_cv_.notify_one();
  }
  bool is_done(Member* m) {
    if (threads_.empty()) return true;
    std::lock_guard lock(mu_);
    return m->done;
  }
  void wait(Member* m) {
    if (threads_.empty()) return;
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] { return m->done; });
  }
  // Stops the threads; members not yet compressed are left as they are.
  void shutdown() noexcept {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      task_cv_.notify_all();
    }
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
  }
  double cpu_s() const { return static_cast<double>(cpu_ns_.load()) / 1e9; }
  double inline_s() const { return static_cast<double>(inline_ns_) / 1e9; }

 private:
  static void compress(GzipMemberCompressor& gz, Member& m) {
    try {
      m.gz.clear();
      gz.compress({reinterpret_cast<const std::uint8_t*>(m.raw.data()), m.raw.size()}, m.gz);
    } catch (...) {
      m.error = std::current_exception();
    }
    std::string().swap(m.raw);  // the records are in the member now
  }

  void run() {
    GzipMemberCompressor gz(level_);
    for (;;) {
      Member* m = nullptr;
      {
        std::unique_lock lock(mu_);
        task_cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
        if (stop_) return;
        m = tasks_.front();
        tasks_.pop_front();
      }
      const auto t0 = thread_cpu_ns();
      compress(gz, *m);
      cpu_ns_ += thread_cpu_ns() - t0;
      std::lock_guard lock(mu_);
      m->done = true;
      done_cv_.notify_all();
    }
  }

  int level_;
  GzipMemberCompressor inline_gz_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable task_cv_, done_cv_;
  std::deque<Member*> tasks_;
  bool stop_ = false;
  std::atomic<std::int64_t> cpu_ns_{0};
  std::int64_t inline_ns_ = 0;
};

unsigned resolve_threads(int n) {
  if (n >= 0) return static_cast<unsigned>(n);
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

std::optional<WriterJournal> read_writer_journal(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  WriterJournal j;
  std::string line;
  if (!std::getline(in, line) || !line.starts_with("seq ")) return std::nullopt;
  j.seq = std::stoull(line.substr(4));
  while (std::getline(in, line)) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos) break;  // a torn last line was never followed by data writes
    std::uint64_t size = 0;
    auto [ptr, ec] = std::from_chars(line.data(), line.data() + tab, size);
    if (ec != std::errc{} || ptr != line.data() + tab) break;
    j.entries.emplace_back(size, line.substr(tab + 1));
  }
  return j;
}

struct ArchiveWriter::Impl {
  std::filesystem::path dir;
  ArchiveWriterOptions opt;
  ArchiveLock lock;
  ArchiveIndex index;
  UniqueFd journal_fd;
  RecoveryReport report;

  std::unordered_map<std::int64_t, DayState> days;
  std::uint64_t seq = 0;            // sequence number of the open transaction
  std::uint64_t pending_total = 0;  // unsealed record bytes across days
  std::uint64_t since_commit = 0;   // record bytes added in this transaction
  std::uint64_t bytes_written = 0;
  bool journal_started = false;
  std::vector<Id32> added;
  std::unordered_set<Id32, Id32Hash> staged;        // ids added whose rows are not in the index yet
  std::deque<std::unique_ptr<Member>> inflight;   // sealed members in seal order, not yet written
  std::uint64_t inflight_bytes = 0;               // their record bytes
  std::map<std::string, std::int64_t> relay_cursors;  // staged for the next commit
  std::int64_t index_ns = 0;
  IndexRow row;                        // reused for inserts
  CompressPool pool;                   // declared last: its threads stop before the members go

  Impl(const std::filesystem::path& d, ArchiveWriterOptions o)
      : dir(d), opt(o), lock(lock_archive(d)), index(ArchiveIndex::open(d / "index.db", ArchiveIndex::Mode::read_write, o.index_cache_kib)),
        pool(o.compression_level, resolve_threads(o.compression_threads)) {
    recover();
    journal_fd = open_or_throw(dir / kJournalName, O_RDWR | O_CREAT | O_TRUNC);
    seq = std::stoull(index.meta(kCommitSeqKey).value_or("0")) + 1;
    index.begin();
  }

  static ArchiveLock lock_archive(const std::filesystem::path& d) {
    std::error_code ec;
    std::filesystem::create_directories(d, ec);
    if (ec) throw std::runtime_error(fmt::format("cannot create output directory {}: {}", d.string(), ec.message()));
    return ArchiveLock::acquire(d, ArchiveLock::Kind::exclusive);
  }

  void recover() {
    // A repair interrupted after its index commit is finished first: the index already describes the
    // repaired files, so cutting to its committed lengths before that would cut the wrong bytes.
    for (auto& action : finish_interrupted_repair(dir, index, opt.fsync)) report.actions.push_back(std::move(action));
    const auto jpath = dir / kJournalName;
    if (auto j = read_writer_journal(jpath)) {
      const std::uint64_t committed = std::stoull(index.meta(kCommitSeqKey).value_or("0"));
      if (j->seq > committed) {
        for (const auto& [presize, name] : j->entries) {
          const auto path = dir / name;
          const std::uint64_t actual = file_size_or_zero(path);
          if (actual <= presize) continue;
          if (presize == 0) {
            std::filesystem::remove(path);
          } else {
            truncate_to(path, presize);
          }
          report.actions.push_back(fmt::format("{}: cut {} uncommitted bytes left by an interrupted run", name, actual - presize));
        }
      }
    }
    // A file longer than its committed length holds a torn tail from an interrupted write.
    for (const FileRow& f : index.files()) {
      const auto path = dir / f.file_name;
      const std::uint64_t actual = file_size_or_zero(path);
      if (actual > f.committed_bytes) {
        truncate_to(path, f.committed_bytes);
        report.actions.push_back(fmt::format("{}: cut a torn tail of {} bytes past the committed length {}", f.file_name,
                                             actual - f.committed_bytes, f.committed_bytes));
      } else if (actual < f.committed_bytes) {
        report.actions.push_back(fmt::format("{}: shorter ({} bytes) than its committed length {}; run `proton-beam verify --repair`",
                                             f.file_name, actual, f.committed_bytes));
      }
    }
  }

  DayState& day_state(std::int64_t day) {
    auto [it, inserted] = days.try_emplace(day);
    DayState& d = it->second;
    if (inserted) {
      d.file_name = day_file_name(day);
      const auto t0 = thread_cpu_ns();
      if (auto frow = index.file(d.file_name)) {
        d.committed_events = frow->events;
      }
      index_ns += thread_cpu_ns() - t0;
      // A file the index does not know (e.g. copied in) is appended to, never overwritten.
      d.size = d.committed_size = file_size_or_zero(dir / d.file_name);
      d.events = d.committed_events;
    }
    return d;
  }

  void journal(std::vector<DayState*>& to_write) {
    std::string lines;
    if (!journal_started) lines += fmt::format("seq {}\n", seq);
    for (DayState* d : to_write) {
      if (d->journaled) continue;
      lines += fmt::format("{}\t{}\n", d->committed_size, d->file_name);
      d->journaled = true;
    }
    if (lines.empty()) return;
    write_all(journal_fd.get(), lines, dir / kJournalName);
    if (opt.fsync) sync_data(journal_fd.get(), dir / kJournalName);
    journal_started = true;
  }

  // Appends a compressed member to its file and inserts its rows, which now have their offset.
  void write_member(Member& m) {
    if (m.error) std::rethrow_exception(m.error);
    DayState& d = *m.day;
    const auto path = dir / d.file_name;
    UniqueFd fd = open_or_throw(path, O_WRONLY | O_CREAT | O_APPEND);
    write_all(fd.get(), m.gz, path);
    const std::uint64_t offset = d.size;
    d.size += m.gz.size();
    d.touched = true;
    bytes_written += m.gz.size();
    const auto t0 = thread_cpu_ns();
    row.file_name = d.file_name;
    row.member_offset = offset;
    for (PendingRow& p : m.rows) {
      row.id = p.id;
      row.pubkey = p.pubkey;
      row.created_at = p.created_at;
      row.kind = p.kind;
      row.tags = std::move(p.tags);
      // add() checked the id against the index and every staged id on this connection, so it is new.
      index.insert_new(row);
    }
    index_ns += thread_cpu_ns() - t0;
    for (const PendingRow& p : m.rows) staged.erase(p.id);
  }

  // Writes finished members from the front, in seal order; with `all`, waits for every member.
  void drain(bool all) {
    while (!inflight.empty()) {
      Member* m = inflight.front().get();
      const bool must = all || inflight_bytes > opt.max_inflight_bytes;
      if (!pool.is_done(m)) {
        if (!must) return;
        pool.wait(m);
      }
      inflight_bytes -= m->raw_size;
      write_member(*m);
      inflight.pop_front();
    }
  }

  // Hands the open members of `to_seal` to the compressors; they are written in this order.
  void seal(std::vector<DayState*> to_seal) {
    std::erase_if(to_seal, [](DayState* d) { return d->pending.empty(); });
    if (to_seal.empty()) return;
    journal(to_seal);
    for (DayState* d : to_seal) {
      auto m = std::make_unique<Member>();
      m->day = d;
      pending_total -= d->pending.size();
      // The member takes the records (no copy). With few days open the next member gets a buffer of
      // a member's size at once; with many, buffers grow as needed, so kept capacity stays bounded.
      m->raw = std::move(d->pending);
      d->pending = std::string();
      if (days.size() <= kReserveDays) d->pending.reserve(opt.member_bytes + kKeepCapacity);
      m->rows = std::move(d->rows);
      d->rows = {};
      m->raw_size = m->raw.size();
      inflight_bytes += m->raw_size;
      Member* p = m.get();
      inflight.push_back(std::move(m));
      pool.submit(p);
    }
    drain(false);
  }

  // Keeps memory bounded when many days are open: seal the biggest open members first (ties by day,
  // so the result never depends on timing).
  void relieve_memory() {
    std::vector<std::pair<std::size_t, std::int64_t>> open;
    for (auto& [day, d] : days)
      if (!d.pending.empty()) open.emplace_back(d.pending.size(), day);
    std::sort(open.begin(), open.end(), [](auto& a, auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
    std::vector<DayState*> batch;
    std::uint64_t remaining = pending_total;
    for (auto& [size, day] : open) {
      if (remaining <= opt.max_pending_bytes / 2) break;
      batch.push_back(&days.at(day));
      remaining -= size;
    }
    seal(batch);
  }

  // Already stored: staged in this writer, or in the index. The lookup is not timed (a CPU-clock read
  // costs more than the lookup on some VMs), so it counts as writer time, not index time.
  bool known(const Id32& id) { return staged.contains(id) || index.contains(id); }

  bool add(const StagedEvent& ev) {
    const std::int64_t day = day_number(ev.created_at);
    DayState& d = day_state(day);
    if (known(ev.id)) return false;
    staged.insert(ev.id);
    PendingRow& r = d.rows.emplace_back();
    r.id = ev.id;
    r.pubkey = ev.pubkey;
    r.created_at = ev.created_at;
    r.kind = ev.kind;
    r.tags.assign(ev.tags.begin(), ev.tags.end());
    d.pending.append(ev.record);
    ++d.events;
    pending_total += ev.record.size();
    since_commit += ev.record.size();
    added.push_back(ev.id);
    if (d.pending.size() >= opt.member_bytes) seal({&d});
    if (pending_total > opt.max_pending_bytes) relieve_memory();
    return true;
  }

  std::vector<Id32> commit() {
    std::vector<DayState*> all;
    for (auto& [day, d] : days) all.push_back(&d);
    std::sort(all.begin(), all.end(), [](DayState* a, DayState* b) { return a->file_name < b->file_name; });
    seal(all);
    drain(true);
    for (DayState* d : all) {
      if (!d->touched) continue;
      if (opt.fsync) {
        UniqueFd fd = open_or_throw(dir / d->file_name, O_WRONLY);
        sync_data(fd.get(), dir / d->file_name);
      }
    }
    const auto t0 = thread_cpu_ns();
    for (DayState* d : all)
      if (d->touched) index.set_file({d->file_name, d->size, d->events});
    for (const auto& [url, cursor] : relay_cursors) index.set_relay_cursor(url, cursor);
    index.set_meta(kCommitSeqKey, std::to_string(seq));
    index.commit();
    index_ns += thread_cpu_ns() - t0;
    relay_cursors.clear();
    // Committed: the journal's lengths are obsolete.
    if (::ftruncate(journal_fd.get(), 0) != 0 || ::lseek(journal_fd.get(), 0, SEEK_SET) != 0)
      throw std::runtime_error("cannot reset the journal in " + dir.string());
    journal_started = false;
    for (DayState* d : all) {
      d->committed_size = d->size;
      d->committed_events = d->events;
      d->journaled = d->touched = false;
    }
    ++seq;
    since_commit = 0;
    const auto t1 = thread_cpu_ns();
    index.begin();
    index_ns += thread_cpu_ns() - t1;
    return std::exchange(added, {});
  }

  void rollback() noexcept {
    pool.shutdown();  // nothing more is written; members in flight are dropped
    try {
      index.rollback();
      for (auto& [day, d] : days) {
        if (d.size > d.committed_size) truncate_to(dir / d.file_name, d.committed_size);
      }
      if (::ftruncate(journal_fd.get(), 0) != 0) { /* recovery on next open redoes the cut */ }
    } catch (...) {
      // Leave the journal: the next open cuts the files back.
    }
  }
};

ArchiveWriter::ArchiveWriter(const std::filesystem::path& dir, ArchiveWriterOptions options)
    : impl_(std::make_unique<Impl>(dir, options)) {}
ArchiveWriter::~ArchiveWriter() {
  if (impl_) impl_->rollback();
}
const RecoveryReport& ArchiveWriter::recovery() const { return impl_->report; }
const std::filesystem::path& ArchiveWriter::dir() const { return impl_->dir; }
std::filesystem::path ArchiveWriter::index_path() const { return impl_->dir / "index.db"; }
bool ArchiveWriter::add(const StagedEvent& ev) { return impl_->add(ev); }
void ArchiveWriter::stage_relay_cursor(const std::string& url, std::int64_t cursor) { impl_->relay_cursors[url] = cursor; }
WriterCpu ArchiveWriter::cpu() const {
  return {static_cast<double>(impl_->index_ns) / 1e9, impl_->pool.cpu_s(), impl_->pool.inline_s()};
}
bool ArchiveWriter::should_commit() const { return impl_->since_commit >= impl_->opt.commit_bytes; }
std::vector<Id32> ArchiveWriter::commit() { return impl_->commit(); }
std::uint64_t ArchiveWriter::bytes_written() const { return impl_->bytes_written; }
ArchiveIndex& ArchiveWriter::index() { return impl_->index; }
const ArchiveWriterOptions& ArchiveWriter::options() const { return impl_->opt; }
bool ArchiveWriter::idle() const {
  const Impl& w = *impl_;
  return w.since_commit == 0 && w.pending_total == 0 && w.inflight.empty() && w.relay_cursors.empty() && !w.journal_started;
}
void ArchiveWriter::forget_day(const std::string& file_name) {
  if (!idle()) throw std::logic_error("ArchiveWriter::forget_day: uncommitted work");
  std::erase_if(impl_->days, [&](const auto& kv) { return kv.second.file_name == file_name; });
}

}  // namespace pb
