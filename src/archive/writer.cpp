#include "archive/writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <fstream>
#include <map>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "archive/lock.hpp"
#include "archive/repair_journal.hpp"
#include "archive/day.hpp"
#include "base/posix_file.hpp"

namespace pb {
namespace {

constexpr const char* kJournalName = kJournalFileName;
constexpr std::size_t kKeepCapacity = 64 << 10;  // a sealed day's buffer keeps at most this much

struct DayState {
  std::string file_name;
  std::uint64_t committed_size = 0;  // length covered by committed index rows
  std::uint64_t size = 0;            // current length including uncommitted members
  std::uint64_t events = 0;          // events in the file (committed + this transaction)
  std::uint64_t committed_events = 0;
  std::string pending;               // records of the open member
  bool journaled = false;            // previous length recorded in this transaction's journal
  bool touched = false;              // written in this transaction
};

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
  GzipMemberCompressor gz;
  UniqueFd journal_fd;
  RecoveryReport report;

  std::unordered_map<std::int64_t, DayState> days;
  std::uint64_t seq = 0;            // sequence number of the open transaction
  std::uint64_t pending_total = 0;  // unsealed record bytes across days
  std::uint64_t since_commit = 0;   // record bytes added in this transaction
  std::uint64_t bytes_written = 0;
  bool journal_started = false;
  std::vector<Id32> added;
  std::string member;

  Impl(const std::filesystem::path& d, ArchiveWriterOptions o)
      : dir(d), opt(o), lock(lock_archive(d)), index(ArchiveIndex::open(d / "index.db", ArchiveIndex::Mode::read_write)),
        gz(o.compression_level) {
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
      if (auto row = index.file(d.file_name)) {
        d.committed_events = row->events;
      }
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

  // Compresses the open members of `to_seal` and appends them to their files.
  void seal(std::vector<DayState*> to_seal) {
    std::erase_if(to_seal, [](DayState* d) { return d->pending.empty(); });
    if (to_seal.empty()) return;
    journal(to_seal);
    for (DayState* d : to_seal) {
      member.clear();
      gz.compress({reinterpret_cast<const std::uint8_t*>(d->pending.data()), d->pending.size()}, member);
      const auto path = dir / d->file_name;
      UniqueFd fd = open_or_throw(path, O_WRONLY | O_CREAT | O_APPEND);
      write_all(fd.get(), member, path);
      d->size += member.size();
      d->touched = true;
      bytes_written += member.size();
      pending_total -= d->pending.size();
      // Give the buffer back: with thousands of days open, kept capacities would add up unbounded.
      if (d->pending.capacity() > kKeepCapacity) std::string().swap(d->pending);
      else d->pending.clear();
    }
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

  bool add(const StagedEvent& ev) {
    const std::int64_t day = day_number(ev.created_at);
    DayState& d = day_state(day);
    IndexRow row;
    row.id = ev.id;
    row.pubkey = ev.pubkey;
    row.created_at = ev.created_at;
    row.kind = ev.kind;
    row.file_name = d.file_name;
    row.member_offset = d.size;  // the open member is written at the file's current end
    row.indexed_at = static_cast<std::int64_t>(std::time(nullptr));
    if (!index.insert_if_absent(row)) return false;
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
    for (DayState* d : all) {
      if (!d->touched) continue;
      if (opt.fsync) {
        UniqueFd fd = open_or_throw(dir / d->file_name, O_WRONLY);
        sync_data(fd.get(), dir / d->file_name);
      }
      index.set_file({d->file_name, d->size, d->events});
    }
    index.set_meta(kCommitSeqKey, std::to_string(seq));
    index.commit();
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
    index.begin();
    return std::exchange(added, {});
  }

  void rollback() noexcept {
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
bool ArchiveWriter::should_commit() const { return impl_->since_commit >= impl_->opt.commit_bytes; }
std::vector<Id32> ArchiveWriter::commit() { return impl_->commit(); }
std::uint64_t ArchiveWriter::bytes_written() const { return impl_->bytes_written; }
ArchiveIndex& ArchiveWriter::index() { return impl_->index; }

}  // namespace pb
