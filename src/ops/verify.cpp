// The verify pass (docs/archive-format.md, "Verify and repair").
//
// Parallelism: N worker threads share one queue of record batches. A thread with nothing queued claims
// the next day file (largest first) and reads it: it inflates and frames records, queues them in
// batches for decoding and id/signature checks (done by whichever thread is free, itself included while
// it waits), and applies the results in file order, where order matters: the first copy of an id wins,
// rows are matched, members are tallied. So one big day file still uses every core, and many small ones
// are read side by side. Each thread has its own EventValidator and read-only index connection.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "archive/lock.hpp"
#include "ops/scan.hpp"
#include "archive/day.hpp"
#include "archive/proto_codec.hpp"
#include "nostr/validate.hpp"

namespace pb {

namespace {
constexpr std::array<std::string_view, kProblemKindCount> kProblemNames = {
    "interrupted_repair", "uncommitted_write", "unreadable_file", "damaged_file", "undecodable_record",
    "invalid_id",         "invalid_signature", "wrong_day",       "duplicate_id", "missing_row",
    "orphan_row",         "wrong_row",         "files_table"};
}  // namespace

std::string_view problem_kind_name(ProblemKind k) { return kProblemNames[static_cast<std::size_t>(k)]; }

std::uint64_t VerifyReport::problem_count() const {
  std::uint64_t n = 0;
  for (auto c : counts) n += c;
  return n;
}
bool VerifyReport::ok() const { return problem_count() == 0; }

namespace scan {
namespace {

constexpr std::size_t kBatchRecords = 512;
constexpr std::size_t kBatchBytes = 512u << 10;
constexpr std::int64_t kDaySeconds = 86400;

// created_at bounds of a day, saturating: day-file names may carry absurd years.
std::int64_t day_start(std::int64_t day) {
  std::int64_t out = 0;
  if (!__builtin_mul_overflow(day, kDaySeconds, &out)) return out;
  return day < 0 ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
}
std::int64_t day_end(std::int64_t day) {
  const std::int64_t s = day_start(day);
  if (s == std::numeric_limits<std::int64_t>::max()) return s;
  std::int64_t out = 0;
  if (__builtin_add_overflow(s, kDaySeconds - 1, &out)) return std::numeric_limits<std::int64_t>::max();
  return out;
}

std::uint64_t fields_hash(const Id32& pubkey, std::int64_t created_at, std::int32_t kind) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ull;
  };
  mix(pubkey.data(), pubkey.size());
  mix(&created_at, sizeof created_at);
  mix(&kind, sizeof kind);
  return h;
}

enum class Status : std::uint8_t { ok, undecodable, bad_id, bad_sig };

struct RawRec {
  std::uint64_t number = 0;
  std::uint64_t member = 0;
  std::size_t begin = 0;
  std::size_t size = 0;
};

struct Checked {
  Status status = Status::ok;
  Id32 id{};
  Id32 pubkey{};
  std::int64_t created_at = 0;
  std::int32_t kind = 0;
  std::string error;
};

struct Batch {
  std::string data;
  std::vector<RawRec> recs;
  std::vector<Checked> out;
  bool done = false;  // guarded by Scanner::mu
};

// Per worker thread.
struct WorkerCtx {
  explicit WorkerCtx(bool signatures)
      : validator(ValidationOptions{true, signatures}), sig_validator(ValidationOptions{true, true}) {}
  EventValidator validator;
  EventValidator sig_validator;  // records of a damaged member get their signature checked regardless
  Event ev;
  std::optional<ArchiveIndex> index;  // read-only
};

void check_batch(Batch& b, WorkerCtx& ctx) {
  b.out.resize(b.recs.size());
  for (std::size_t i = 0; i < b.recs.size(); ++i) {
    const RawRec& r = b.recs[i];
    Checked& c = b.out[i];
    if (auto err = decode_proto_event(std::string_view(b.data).substr(r.begin, r.size), ctx.ev)) {
      c.status = Status::undecodable;
      c.error = std::move(*err);
      continue;
    }
    c.id = ctx.ev.id;
    c.pubkey = ctx.ev.pubkey;
    c.created_at = ctx.ev.created_at;
    c.kind = ctx.ev.kind;
    if (auto rej = ctx.validator.validate(ctx.ev)) {
      c.status = rej->category == RejectCategory::invalid_event_id ? Status::bad_id : Status::bad_sig;
      c.error = std::move(rej->message);
    }
  }
}

// An index row of the file's day, compacted: a day can hold millions.
struct DayRow {
  Id32 id{};
  std::uint64_t fields = 0;      // fields_hash of pubkey, created_at, kind
  std::uint64_t member = 0;
  std::uint64_t claimed_by = 0;  // record number of the first valid copy seen here (0: none)
  std::uint64_t claimed_member = 0;
  std::int64_t created_at = 0;
  std::int32_t file = -1;        // -1: this file; else index into FileTask::other_files
  bool matched = false;          // a valid copy sits exactly where the row says
};

class Scanner;

// Reads one day file; runs on one worker thread from start to end.
class FileTask {
 public:
  FileTask(Scanner& s, FileScan& f, WorkerCtx& ctx);
  void run();

 private:
  struct Pending {
    RawRec rec;
    Checked checked;
    std::string raw;  // kept only when the signature may still need checking
  };

  void problem(ProblemKind kind, std::optional<std::uint64_t> offset, std::optional<std::uint64_t> record,
               std::optional<Id32> id, std::string message);
  void load_rows();
  DayRow* find_row(const Id32& id);
  void submit(std::shared_ptr<Batch> b);
  void drain(bool all, std::uint64_t clean_end);
  void process(Batch& b, std::uint64_t clean_end);
  void flush_below(std::uint64_t clean_end);
  void finish_segment(std::uint64_t clean_end, bool damaged);
  void finalize(const RawRec& r, Checked& c);
  void keep(const RawRec& r, const Checked& c);
  RecordRef ref(const RawRec& r, const Checked& c) const;

  Scanner& s_;
  FileScan& f_;
  WorkerCtx& ctx_;
  std::filesystem::path path_;
  std::vector<DayRow> rows_;  // sorted by id
  std::vector<std::string> other_files_;
  std::unordered_map<Id32, std::pair<std::uint64_t, std::uint64_t>, Id32Hash> unrowed_;  // id -> (record, member)
  std::deque<std::shared_ptr<Batch>> inflight_;
  std::deque<Pending> pending_;
};

class Scanner {
 public:
  Scanner(const std::filesystem::path& dir, const VerifyOptions& opt, bool have_index, std::vector<FileScan>& files)
      : dir_(dir), opt_(opt), have_index_(have_index), files_(files) {
    order_.resize(files.size());
    for (std::size_t i = 0; i < files.size(); ++i) order_[i] = i;
    // Largest first, so a big file does not start last and leave the other cores idle at the end.
    std::stable_sort(order_.begin(), order_.end(), [&](auto a, auto b) { return files[a].size > files[b].size; });
    for (const auto& f : files) bytes_total_ += f.size;
  }

  void run(unsigned threads, const std::function<void(const VerifyProgress&)>& progress) {
    threads = std::max(1u, threads);
    {
      std::vector<std::jthread> pool;
      for (unsigned t = 0; t < threads; ++t) pool.emplace_back([this] { worker(); });
      std::unique_lock lk(mu_);
      while (!finished_all()) {
        done_cv_.wait_for(lk, std::chrono::milliseconds(200));
        if (progress) {
          const VerifyProgress p = snapshot();
          lk.unlock();
          progress(p);
          lk.lock();
        }
      }
    }
    if (error_) std::rethrow_exception(error_);
  }

  VerifyProgress snapshot() const {
    return {files_done_, files_.size(), records_.load(std::memory_order_relaxed), bytes_done_, bytes_total_};
  }

  const std::filesystem::path& dir() const { return dir_; }
  const VerifyOptions& opt() const { return opt_; }
  bool have_index() const { return have_index_; }
  void count_records(std::uint64_t n) { records_.fetch_add(n, std::memory_order_relaxed); }

  void submit(std::shared_ptr<Batch> b) {
    {
      std::lock_guard lk(mu_);
      queue_.push_back(std::move(b));
    }
    cv_.notify_one();
  }

  // Waits until `b` is checked, checking queued batches meanwhile. Returns false without waiting when
  // `block` is false and `b` is not done yet.
  bool wait_for(const Batch& b, bool block, WorkerCtx& ctx) {
    std::unique_lock lk(mu_);
    for (;;) {
      if (b.done) return true;
      if (aborted_) throw std::runtime_error("verify aborted");
      if (!block) return false;
      if (!queue_.empty()) {
        auto next = std::move(queue_.front());
        queue_.pop_front();
        lk.unlock();
        run_batch(*next, ctx);
        lk.lock();
        continue;
      }
      cv_.wait(lk);
    }
  }

 private:
  bool finished_all() const { return (next_file_ == order_.size() && active_ == 0 && queue_.empty()) || aborted_; }

  void run_batch(Batch& b, WorkerCtx& ctx) {
    check_batch(b, ctx);
    {
      std::lock_guard lk(mu_);
      b.done = true;
    }
    cv_.notify_all();
  }

  void worker() {
    WorkerCtx ctx(opt_.check_signatures);
    try {
      std::unique_lock lk(mu_);
      for (;;) {
        cv_.wait(lk, [&] { return !queue_.empty() || next_file_ < order_.size() || active_ == 0 || aborted_; });
        if (aborted_) return;
        if (!queue_.empty()) {
          auto b = std::move(queue_.front());
          queue_.pop_front();
          lk.unlock();
          run_batch(*b, ctx);
          lk.lock();
          continue;
        }
        if (next_file_ < order_.size()) {
          FileScan& f = files_[order_[next_file_++]];
          ++active_;
          lk.unlock();
          FileTask(*this, f, ctx).run();
          lk.lock();
          --active_;
          ++files_done_;
          bytes_done_ += f.size;
          cv_.notify_all();
          done_cv_.notify_all();
          continue;
        }
        return;  // nothing queued, no file left, no reader that could queue more
      }
    } catch (...) {
      std::lock_guard lk(mu_);
      if (!error_) error_ = std::current_exception();
      aborted_ = true;
      cv_.notify_all();
      done_cv_.notify_all();
    }
  }

  std::filesystem::path dir_;
  VerifyOptions opt_;
  bool have_index_;
  std::vector<FileScan>& files_;
  std::vector<std::size_t> order_;
  std::uint64_t bytes_total_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;       // queue changes, batches done, readers finished
  std::condition_variable done_cv_;  // the calling thread: progress and completion
  std::deque<std::shared_ptr<Batch>> queue_;
  std::size_t next_file_ = 0;
  std::size_t active_ = 0;
  std::uint64_t files_done_ = 0;
  std::uint64_t bytes_done_ = 0;
  std::atomic<std::uint64_t> records_{0};
  bool aborted_ = false;
  std::exception_ptr error_;
};

FileTask::FileTask(Scanner& s, FileScan& f, WorkerCtx& ctx) : s_(s), f_(f), ctx_(ctx), path_(s.dir() / f.name) {}

void FileTask::problem(ProblemKind kind, std::optional<std::uint64_t> offset, std::optional<std::uint64_t> record,
                       std::optional<Id32> id, std::string message) {
  const auto k = static_cast<std::size_t>(kind);
  if (f_.counts[k]++ < s_.opt().max_listed)
    f_.problems.push_back({kind, f_.name, offset, record, id, std::move(message)});
}

void FileTask::load_rows() {
  if (!s_.have_index()) return;
  if (!ctx_.index) ctx_.index = ArchiveIndex::open(s_.dir() / "index.db", ArchiveIndex::Mode::read_only);
  std::map<std::string, std::int32_t> names;
  ctx_.index->for_each_row_created_between(day_start(f_.day), day_end(f_.day), [&](const IndexRow& r) {
    DayRow d;
    d.id = r.id;
    d.fields = fields_hash(r.pubkey, r.created_at, r.kind);
    d.member = r.member_offset;
    d.created_at = r.created_at;
    if (r.file_name != f_.name) {
      auto [it, inserted] = names.try_emplace(r.file_name, static_cast<std::int32_t>(other_files_.size()));
      if (inserted) other_files_.push_back(r.file_name);
      d.file = it->second;
    }
    rows_.push_back(d);
  });
  std::sort(rows_.begin(), rows_.end(), [](const DayRow& a, const DayRow& b) { return a.id < b.id; });
}

DayRow* FileTask::find_row(const Id32& id) {
  auto it = std::lower_bound(rows_.begin(), rows_.end(), id, [](const DayRow& r, const Id32& v) { return r.id < v; });
  return it != rows_.end() && it->id == id ? &*it : nullptr;
}

RecordRef FileTask::ref(const RawRec& r, const Checked& c) const {
  RecordRef x;
  x.number = r.number;
  x.member = r.member;
  x.id = c.id;
  x.pubkey = c.pubkey;
  x.created_at = c.created_at;
  x.kind = c.kind;
  return x;
}

void FileTask::submit(std::shared_ptr<Batch> b) {
  inflight_.push_back(b);
  s_.submit(std::move(b));
}

// Applies checked batches in file order: all of them (`all`), or those already done, blocking only
// while too many are in flight (bounds memory to a few MiB per reader).
void FileTask::drain(bool all, std::uint64_t clean_end) {
  const std::size_t max_inflight = 4 + 2 * static_cast<std::size_t>(std::max(1u, s_.opt().threads));
  while (!inflight_.empty()) {
    const bool block = all || inflight_.size() > max_inflight;
    if (!s_.wait_for(*inflight_.front(), block, ctx_)) return;
    process(*inflight_.front(), clean_end);
    inflight_.pop_front();
  }
}

// Records of a member the reader has not yet seen end cleanly wait in pending_: if that member turns
// out damaged, their CRC never verified, so their signatures get checked before they count as valid.
void FileTask::process(Batch& b, std::uint64_t clean_end) {
  s_.count_records(b.recs.size());
  for (std::size_t i = 0; i < b.recs.size(); ++i) {
    const RawRec& r = b.recs[i];
    Checked& c = b.out[i];
    flush_below(clean_end);
    if (r.member >= clean_end) {
      Pending p{r, std::move(c), {}};
      if (p.checked.status == Status::ok && !s_.opt().check_signatures) p.raw.assign(b.data, r.begin, r.size);
      pending_.push_back(std::move(p));
      continue;
    }
    finalize(r, c);
  }
}

void FileTask::flush_below(std::uint64_t clean_end) {
  while (!pending_.empty() && pending_.front().rec.member < clean_end) {
    finalize(pending_.front().rec, pending_.front().checked);
    pending_.pop_front();
  }
}

void FileTask::finish_segment(std::uint64_t clean_end, bool damaged) {
  flush_below(clean_end);
  for (Pending& p : pending_) {
    if (damaged && !p.raw.empty()) {
      // Same bytes decoded before; only the signature is new.
      if (!decode_proto_event(p.raw, ctx_.ev)) {
        if (auto rej = ctx_.sig_validator.validate(ctx_.ev)) {
          p.checked.status = Status::bad_sig;
          p.checked.error = rej->message + " (record of a damaged member, so its signature was checked)";
        }
      }
    }
    finalize(p.rec, p.checked);
  }
  pending_.clear();
}

void FileTask::keep(const RawRec& r, const Checked& c) {
  ++f_.kept;
  f_.kept_digest += id_digest(c.id);
  f_.members.back().kept += 1;
  (void)r;
}

void FileTask::finalize(const RawRec& r, Checked& c) {
  ++f_.records;
  if (f_.members.empty() || f_.members.back().offset != r.member) f_.members.push_back({r.member, r.number, 0, 0});
  f_.members.back().records += 1;

  switch (c.status) {
    case Status::undecodable:
      problem(ProblemKind::undecodable_record, r.member, r.number, std::nullopt, "not a valid ProtoEvent: " + c.error);
      f_.drop.push_back(r.number);
      return;
    case Status::bad_id:
      problem(ProblemKind::invalid_id, r.member, r.number, c.id, c.error);
      f_.drop.push_back(r.number);
      return;
    case Status::bad_sig:
      problem(ProblemKind::invalid_signature, r.member, r.number, c.id, c.error);
      f_.drop.push_back(r.number);
      return;
    case Status::ok:
      break;
  }

  const std::int64_t day = day_number(c.created_at);
  if (day != f_.day) {
    problem(ProblemKind::wrong_day, r.member, r.number, c.id,
            fmt::format("created_at {} belongs in {}", c.created_at, day_file_name(day)));
    RecordRef x = ref(r, c);
    if (ctx_.index) x.row = ctx_.index->get(c.id);
    x.has_row = x.row.has_value();
    f_.misplaced.push_back(std::move(x));
    f_.drop.push_back(r.number);
    return;
  }

  if (DayRow* row = find_row(c.id)) {
    if (row->claimed_by != 0) {
      problem(ProblemKind::duplicate_id, r.member, r.number, c.id,
              fmt::format("second copy of record {} (member at byte {})", row->claimed_by, row->claimed_member));
      f_.drop.push_back(r.number);
      return;
    }
    row->claimed_by = r.number;
    row->claimed_member = r.member;
    keep(r, c);
    const bool fields_ok = row->fields == fields_hash(c.pubkey, c.created_at, c.kind);
    if (row->file == -1 && row->member == r.member && fields_ok) {
      row->matched = true;
      return;
    }
    std::string what = row->file == -1 ? fmt::format("its index row says member {}", row->member)
                                        : fmt::format("its index row says {} member {}", other_files_[row->file], row->member);
    if (row->file == -1 && row->member == r.member) what = "its index row";
    if (!fields_ok) what += " and has other pubkey/created_at/kind than the record";
    problem(ProblemKind::wrong_row, r.member, r.number, c.id, what);
    RecordRef x = ref(r, c);
    x.has_row = true;
    f_.row_fix.push_back(std::move(x));
    return;
  }

  // No row of this day carries the id: a missing row, or one whose created_at is wrong.
  auto [it, inserted] = unrowed_.try_emplace(c.id, r.number, r.member);
  if (!inserted) {
    problem(ProblemKind::duplicate_id, r.member, r.number, c.id,
            fmt::format("second copy of record {} (member at byte {})", it->second.first, it->second.second));
    f_.drop.push_back(r.number);
    return;
  }
  keep(r, c);
  RecordRef x = ref(r, c);
  std::optional<IndexRow> other = ctx_.index ? ctx_.index->get(c.id) : std::nullopt;
  x.has_row = other.has_value();
  if (other) {
    problem(ProblemKind::wrong_row, r.member, r.number, c.id,
            fmt::format("its index row says {} member {}, created_at {}", other->file_name, other->member_offset,
                        other->created_at));
  } else {
    problem(ProblemKind::missing_row, r.member, r.number, c.id, "no index row");
  }
  f_.row_fix.push_back(std::move(x));
}

// A gzip member start past `from` whose first member inflates and passes its CRC: where reading can
// resume after damage. A random 1f 8b 08 in compressed data essentially never passes the CRC.
std::optional<std::uint64_t> find_member_start(const std::filesystem::path& path, std::uint64_t from, std::uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  constexpr std::size_t kChunk = 1u << 20;
  std::string buf;
  std::uint64_t pos = from;
  while (pos + 4 <= size) {
    in.seekg(static_cast<std::streamoff>(pos));
    buf.resize(static_cast<std::size_t>(std::min<std::uint64_t>(kChunk + 3, size - pos)));
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    buf.resize(static_cast<std::size_t>(in.gcount()));
    in.clear();
    if (buf.size() < 4) return std::nullopt;
    for (std::size_t i = 0; i + 3 < buf.size(); ++i) {
      if (buf[i] != '\x1f' || buf[i + 1] != '\x8b' || buf[i + 2] != '\x08') continue;
      if ((static_cast<unsigned char>(buf[i + 3]) & 0xe0) != 0) continue;  // reserved flag bits set
      const std::uint64_t cand = pos + i;
      DayFileReader r(path, cand);
      while (r.clean_end_offset() <= cand && r.next()) {
      }
      if (r.clean_end_offset() > cand) return cand;
    }
    if (buf.size() <= 3) return std::nullopt;
    pos += buf.size() - 3;
  }
  return std::nullopt;
}

void FileTask::run() {
  load_rows();
  std::uint64_t start = 0;
  std::uint64_t number = 0;
  for (;;) {
    Segment seg;
    seg.start = start;
    seg.first_record = number + 1;
    std::optional<DayFileReader> reader;
    try {
      reader.emplace(path_, start);
    } catch (const std::exception& e) {
      if (start != 0) throw;  // it opened a moment ago: not a permissions problem
      f_.unreadable = e.what();
      problem(ProblemKind::unreadable_file, std::nullopt, std::nullopt, std::nullopt, e.what());
      return;
    }
    auto batch = std::make_shared<Batch>();
    while (auto rec = reader->next()) {
      ++number;
      batch->recs.push_back({number, reader->record_member_offset(), batch->data.size(), rec->size()});
      batch->data.append(*rec);
      if (batch->recs.size() >= kBatchRecords || batch->data.size() >= kBatchBytes) {
        submit(std::move(batch));
        batch = std::make_shared<Batch>();
        drain(false, reader->clean_end_offset());
      }
    }
    if (!batch->recs.empty()) submit(std::move(batch));
    const std::uint64_t clean_end = reader->clean_end_offset();
    drain(true, clean_end);
    const std::optional<ReadDamage> damage = reader->damage();  // outlives the reader
    finish_segment(clean_end, damage.has_value());
    seg.records = number + 1 - seg.first_record;
    if (!damage) {
      f_.segments.push_back(seg);
      break;
    }
    seg.damage = damage;
    // Cut before the first byte that may be bad: the damaged gzip member (clean_end) or the member of a
    // record whose framing is bad (damage offset). A record cut off by the end of otherwise clean gzip
    // data started at or after the last complete record's member.
    std::uint64_t cut = std::min(clean_end, damage->offset);
    if (cut >= f_.size) cut = seg.records ? reader->record_member_offset() : start;
    seg.cut = std::max(cut, start);
    reader.reset();
    const auto next = find_member_start(path_, seg.cut + 1, f_.size);
    seg.lost_end = next.value_or(f_.size);
    for (const Member& m : f_.members)
      if (m.offset >= seg.cut && m.first_record >= seg.first_record) {
        seg.tail_records += m.records;
        seg.salvageable += m.kept;
      }
    f_.salvageable += seg.salvageable;
    std::string msg = damage->message;
    msg += fmt::format("; bytes {}..{} are damaged: {} record(s) read from them before the damage, {} valid (salvageable)",
                       seg.cut, seg.lost_end, seg.tail_records, seg.salvageable);
    if (next) msg += fmt::format("; reading resumed at byte {}", *next);
    problem(ProblemKind::damaged_file, damage->offset, number ? std::optional<std::uint64_t>(number) : std::nullopt,
            std::nullopt, std::move(msg));
    f_.segments.push_back(seg);
    if (!next) break;
    start = *next;
  }
  for (const DayRow& r : rows_) {
    if (r.matched) continue;
    IndexRow row;
    row.id = r.id;
    row.file_name = r.file == -1 ? f_.name : other_files_[r.file];
    row.member_offset = r.member;
    row.created_at = r.created_at;
    f_.unresolved_rows.push_back(std::move(row));
  }
}

// Cross-file decisions, on the calling thread once every file is read: which copy of a misplaced event
// is kept, and which unmatched rows have no event at all.
class Reconciler {
 public:
  Reconciler(ArchiveScan& s, std::size_t max_listed) : s_(s), max_listed_(max_listed) {}

  void add_problem(std::vector<Problem>& out, ProblemKind kind, std::string file, std::optional<std::uint64_t> offset,
                   std::optional<std::uint64_t> record, std::optional<Id32> id, std::string message) {
    if (s_.report.counts[static_cast<std::size_t>(kind)]++ < max_listed_)
      out.push_back({kind, std::move(file), offset, record, id, std::move(message)});
  }

  void run(std::vector<IndexRow> gap_rows, std::vector<Problem>& out) {
    std::unordered_map<Id32, const IndexRow*, Id32Hash> unresolved;
    std::vector<const IndexRow*> unresolved_order;
    for (const auto& f : s_.files)
      for (const auto& r : f.unresolved_rows)
        if (unresolved.emplace(r.id, &r).second) unresolved_order.push_back(&r);
    for (const auto& r : gap_rows)
      if (unresolved.emplace(r.id, &r).second) unresolved_order.push_back(&r);

    std::unordered_set<Id32, Id32Hash> keepers;
    for (const auto& f : s_.files)
      for (const auto& x : f.row_fix) keepers.insert(x.id);

    // Misplaced copies by id, in file then record order.
    std::unordered_map<Id32, std::vector<std::pair<std::size_t, std::size_t>>, Id32Hash> copies;
    std::vector<Id32> order;
    for (std::size_t fi = 0; fi < s_.files.size(); ++fi)
      for (std::size_t i = 0; i < s_.files[fi].misplaced.size(); ++i) {
        auto& v = copies[s_.files[fi].misplaced[i].id];
        if (v.empty()) order.push_back(s_.files[fi].misplaced[i].id);
        v.emplace_back(fi, i);
      }
    for (const Id32& id : order) {
      const auto& v = copies[id];
      const RecordRef& first = s_.files[v.front().first].misplaced[v.front().second];
      // A row that nobody left unmatched was matched exactly by a valid copy in the right file.
      const bool placed_copy = keepers.contains(id) || (first.row && !unresolved.contains(id));
      const std::string home = day_file_name(day_number(first.created_at));
      std::size_t keep = v.size();
      if (!placed_copy) {
        keep = 0;
        for (std::size_t k = 0; k < v.size(); ++k) {
          const auto& x = s_.files[v[k].first].misplaced[v[k].second];
          if (x.row && x.row->file_name == s_.files[v[k].first].name && x.row->member_offset == x.member) {
            keep = k;
            break;
          }
        }
      }
      for (std::size_t k = 0; k < v.size(); ++k) {
        const auto& f = s_.files[v[k].first];
        const auto& x = f.misplaced[v[k].second];
        if (k == keep) {
          s_.moves.push_back({v[k].first, x});
          if (!x.has_row) add_problem(out, ProblemKind::missing_row, f.name, x.member, x.number, id, "no index row");
          continue;
        }
        add_problem(out, ProblemKind::duplicate_id, f.name, x.member, x.number, id,
                    placed_copy ? fmt::format("a valid copy is already in {}", home)
                                : fmt::format("the copy in {} record {} is the one kept",
                                              s_.files[v[keep].first].name,
                                              s_.files[v[keep].first].misplaced[v[keep].second].number));
      }
      keepers.insert(id);
    }

    for (const IndexRow* r : unresolved_order) {
      if (keepers.contains(r->id)) continue;
      s_.orphan_rows.push_back(r->id);
      add_problem(out, ProblemKind::orphan_row, r->file_name, r->member_offset, std::nullopt, r->id,
                  fmt::format("the index names {} member {}, but no valid copy of this event is in the archive",
                              r->file_name, r->member_offset));
    }
  }

 private:
  ArchiveScan& s_;
  std::size_t max_listed_;
};

}  // namespace

std::uint64_t id_digest(const Id32& id) {
  std::uint64_t a = 0, b = 0;
  std::memcpy(&a, id.data(), 8);
  std::memcpy(&b, id.data() + 24, 8);
  std::uint64_t z = a ^ (b * 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

namespace {

// The day files of `dir`, by name.
std::vector<FileScan> list_day_files(const std::filesystem::path& dir) {
  std::error_code ec;
  std::vector<FileScan> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    const auto day = parse_day_file_name(name);
    if (!day || !e.is_regular_file(ec)) continue;
    FileScan f;
    f.name = name;
    f.day = *day;
    f.size = e.file_size(ec);
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(), [](const FileScan& a, const FileScan& b) { return a.name < b.name; });
  return files;
}

// Rows of days that have no day file: nothing can match them except misplaced copies.
std::vector<IndexRow> rows_between_files(ArchiveIndex& index, const std::vector<FileScan>& files) {
  std::vector<IndexRow> gap_rows;
  auto collect = [&](std::int64_t lo, std::int64_t hi) {
    if (lo <= hi) index.for_each_row_created_between(lo, hi, [&](const IndexRow& r) { gap_rows.push_back(r); });
  };
  std::int64_t lo = std::numeric_limits<std::int64_t>::min();
  for (const auto& f : files) {
    const std::int64_t start = day_start(f.day);
    if (start != std::numeric_limits<std::int64_t>::min()) collect(lo, start - 1);
    const std::int64_t end = day_end(f.day);
    if (end == std::numeric_limits<std::int64_t>::max()) {
      lo = end;
      break;
    }
    lo = end + 1;
  }
  if (files.empty() || day_end(files.back().day) != std::numeric_limits<std::int64_t>::max())
    collect(lo, std::numeric_limits<std::int64_t>::max());
  return gap_rows;
}

// Adds each file's counts to the report and moves its problems into `problems`.
void add_file_results(ArchiveScan& s, std::vector<Problem>& problems) {
  for (auto& f : s.files) {
    s.report.files += 1;
    s.report.bytes += f.size;
    s.report.records += f.records;
    s.report.valid_records += f.kept;
    s.report.salvageable += f.salvageable;
    for (std::size_t k = 0; k < kProblemKindCount; ++k) s.report.counts[k] += f.counts[k];
    for (auto& p : f.problems) problems.push_back(std::move(p));
    f.problems.clear();
  }
}

// Problems of the archive as a whole: an interrupted repair or write, a missing index.
void check_journals(const std::filesystem::path& dir, const ArchiveScan& s, bool redo_pending, Reconciler& rec,
                    std::vector<Problem>& out) {
  if (redo_pending)
    rec.add_problem(out, ProblemKind::interrupted_repair, "", std::nullopt, std::nullopt, std::nullopt,
                    "a repair stopped after its index commit; `verify --repair` (or any writer) finishes it");
  if (s.journal) {
    for (const auto& [presize, name] : s.journal->entries) {
      const std::uint64_t actual = file_size_or_zero(dir / name);
      if (actual <= presize) continue;
      rec.add_problem(out, ProblemKind::uncommitted_write, name, presize, std::nullopt, std::nullopt,
                      fmt::format("an interrupted write (transaction {}) left {} bytes past byte {}; the next writer "
                                  "cuts them, `verify --repair` keeps their complete valid records instead",
                                  s.journal->seq, actual - presize, presize));
    }
  }
  if (s.index_missing)
    rec.add_problem(out, ProblemKind::files_table, "", std::nullopt, std::nullopt, std::nullopt,
                    "index.db is missing; `verify --repair` rebuilds it from the day files");
}

// The files table against the files: lengths, counts, rows without files and files without rows.
void check_files_table(const ArchiveScan& s, Reconciler& rec, std::vector<Problem>& out) {
  std::map<std::string, const FileRow*> rows_by_name;
  for (const auto& r : s.file_rows) rows_by_name[r.file_name] = &r;
  for (const auto& f : s.files) {
    if (f.unreadable || s.index_missing) continue;
    auto it = rows_by_name.find(f.name);
    if (it == rows_by_name.end()) {
      rec.add_problem(out, ProblemKind::files_table, f.name, std::nullopt, std::nullopt, std::nullopt,
                      fmt::format("no files-table row for this file ({} bytes)", f.size));
      continue;
    }
    const FileRow& r = *it->second;
    if (r.committed_bytes != f.size)
      rec.add_problem(out, ProblemKind::files_table, f.name, r.committed_bytes, std::nullopt, std::nullopt,
                      fmt::format("files table says {} committed bytes, the file has {}", r.committed_bytes, f.size));
    if (r.events != f.kept)
      rec.add_problem(out, ProblemKind::files_table, f.name, std::nullopt, std::nullopt, std::nullopt,
                      fmt::format("files table counts {} events, the file holds {} valid ones", r.events, f.kept));
    rows_by_name.erase(it);
  }
  for (const auto& [name, r] : rows_by_name)
    rec.add_problem(out, ProblemKind::files_table, name, r->committed_bytes, std::nullopt, std::nullopt,
                    "the files table lists this file, but it is not in the archive");
}

// The report keeps the first max_listed problems of each kind, kinds in enum order, files in name order.
void keep_listed(std::vector<Problem> problems, std::size_t max_listed, VerifyReport& report) {
  std::stable_sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) { return a.kind < b.kind; });
  std::array<std::size_t, kProblemKindCount> listed{};
  for (auto& p : problems)
    if (listed[static_cast<std::size_t>(p.kind)]++ < max_listed) report.problems.push_back(std::move(p));
}

}  // namespace

ArchiveScan scan_archive(const std::filesystem::path& dir, const VerifyOptions& options, bool lock,
                         const std::function<void(const VerifyProgress&)>& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw std::runtime_error(fmt::format("no archive at {}: not a directory", dir.string()));

  ArchiveScan s;
  s.report.dir = dir;
  s.report.signatures_checked = options.check_signatures;
  s.files = list_day_files(dir);
  const bool have_index = std::filesystem::exists(dir / "index.db", ec);
  if (!have_index && s.files.empty())
    throw std::runtime_error(fmt::format("no archive at {}: neither index.db nor day files", dir.string()));

  ArchiveLock held;
  if (lock) held = ArchiveLock::acquire(dir, ArchiveLock::Kind::shared);

  std::optional<ArchiveIndex> index;
  std::optional<std::string> redo;
  if (have_index) {
    index = ArchiveIndex::open(dir / "index.db", ArchiveIndex::Mode::read_only);
    s.file_rows = index->files();
    s.commit_seq = std::stoull(index->meta(kCommitSeqKey).value_or("0"));
    redo = index->meta(kRedoKey);
  } else {
    s.index_missing = true;
  }
  if (auto j = read_writer_journal(dir / kJournalFileName); j && j->seq > s.commit_seq) s.journal = std::move(j);

  VerifyOptions opt = options;
  if (opt.threads == 0) opt.threads = std::max(1u, std::thread::hardware_concurrency());
  Scanner scanner(dir, opt, have_index, s.files);
  scanner.run(opt.threads, progress);

  std::vector<IndexRow> gap_rows;
  if (index) {
    gap_rows = rows_between_files(*index, s.files);
    s.report.index_rows = index->count();
  }
  std::vector<Problem> problems;
  add_file_results(s, problems);
  // Per-file lists were capped per file; the report keeps the first max_listed per kind overall.
  std::vector<Problem> archive_level;
  Reconciler rec(s, opt.max_listed);
  rec.run(std::move(gap_rows), archive_level);
  s.report.valid_records += s.moves.size();
  check_journals(dir, s, redo.has_value(), rec, archive_level);
  check_files_table(s, rec, archive_level);
  for (auto& p : archive_level) problems.push_back(std::move(p));
  keep_listed(std::move(problems), opt.max_listed, s.report);
  s.report.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace scan

VerifyReport verify_archive(const std::filesystem::path& dir, const VerifyOptions& options,
                            const std::function<void(const VerifyProgress&)>& progress) {
  return scan::scan_archive(dir, options, /*lock=*/true, progress).report;
}

}  // namespace pb
