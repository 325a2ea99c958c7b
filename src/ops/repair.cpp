// `verify --repair` (docs/archive-format.md, "Verify and repair").
//
// Every change to a day file is a whole-file replacement: the repaired file is written beside it
// (.proton-beam-repair/<name>.new: intact members copied byte for byte, everything else re-encoded),
// read back and checked, then swapped in with rename(). The index transaction that describes the new
// files also records the list of renames still to do (meta "repair_redo"); after a crash past that
// commit, the next repair or writer finishes the renames before looking at anything else. So a crash
// leaves the old archive (side files ignored) or the repaired one, never a mix that loses events.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "archive/lock.hpp"
#include "ops/scan.hpp"
#include "archive/day.hpp"
#include "archive/gzip_member.hpp"
#include "base/posix_file.hpp"
#include "archive/proto_codec.hpp"
#include "nostr/validate.hpp"

namespace pb {
namespace {

using namespace scan;
namespace fs = std::filesystem;

[[noreturn]] void io_failure(const char* what, const fs::path& p, ssize_t rc) {
  throw std::runtime_error(fmt::format("cannot {} {}: {}", what, p.string(), rc < 0 ? std::strerror(errno) : "unexpected end"));
}

// Copies bytes [begin, end) of `src` to the end of `out`: in the kernel (or as a reflink) where it can.
void copy_range(int src, std::uint64_t begin, std::uint64_t end, int out, const fs::path& src_path) {
  auto off = static_cast<off_t>(begin);
  std::uint64_t left = end - begin;
  while (left > 0) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, 1u << 30));
    const ssize_t n = ::copy_file_range(src, &off, out, nullptr, want, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) break;
    if (n <= 0) io_failure("copy from", src_path, n);
    left -= static_cast<std::uint64_t>(n);
  }
  std::string buf;  // file systems without copy_file_range
  while (left > 0) {
    buf.resize(static_cast<std::size_t>(std::min<std::uint64_t>(left, 1u << 20)));
    const ssize_t r = ::pread(src, buf.data(), buf.size(), off);
    if (r <= 0) io_failure("read", src_path, r);
    write_all(out, std::string_view(buf.data(), static_cast<std::size_t>(r)), src_path);
    off += r;
    left -= static_cast<std::uint64_t>(r);
  }
}

struct Incoming {
  RecordRef ref;
  std::string bytes;  // ProtoEvent bytes
};

// Reads the given records (by number) of a scanned file, re-reading each segment from its start.
std::map<std::uint64_t, std::string> read_records(const fs::path& path, const FileScan& f, std::set<std::uint64_t> wanted) {
  std::map<std::uint64_t, std::string> out;
  for (const Segment& seg : f.segments) {
    if (wanted.empty()) break;
    const std::uint64_t last = seg.first_record + seg.records;  // one past
    if (*wanted.begin() >= last) continue;
    DayFileReader r(path, seg.start);
    std::uint64_t n = seg.first_record - 1;
    while (auto rec = r.next()) {
      if (++n >= last) break;
      if (wanted.erase(n)) out.emplace(n, std::string(*rec));
      if (wanted.empty() || *wanted.begin() >= last) break;
    }
  }
  if (!wanted.empty()) throw std::runtime_error(fmt::format("cannot read record {} of {} again", *wanted.begin(), f.name));
  return out;
}

struct BuildResult {
  std::uint64_t size = 0;
  std::uint64_t records = 0;
  std::vector<IndexRow> rows;
};

struct Mismatch : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Writes the repaired version of one day file to `side` and reads it back.
class FileBuilder {
 public:
  FileBuilder(const fs::path& dir, const fs::path& side, std::string name, std::int64_t day, const FileScan* f,
              const std::vector<Incoming>& incoming, bool fsync)
      : dir_(dir), side_(side), name_(std::move(name)), day_(day), f_(f), incoming_(incoming), fsync_(fsync), gz_(6) {}

  BuildResult build() {
    try {
      return build_once(false);
    } catch (const Mismatch&) {
      // Records spanning members (other tools' files) make byte-range copies unsafe: re-encode all.
      return build_once(true);
    }
  }

 private:
  bool dropped(std::uint64_t n) const { return f_ && std::binary_search(f_->drop.begin(), f_->drop.end(), n); }

  void add(std::string_view rec) {
    append_varint(member_, rec.size());
    member_.append(rec);
    if (member_.size() >= kDefaultMemberBytes) flush();
  }
  void flush() {
    if (member_.empty()) return;
    packed_.clear();
    gz_.compress({reinterpret_cast<const std::uint8_t*>(member_.data()), member_.size()}, packed_);
    write_all(out_.get(), packed_, side_);
    member_.clear();
  }

  // Re-encodes `count` records starting at member offset `at`, numbered from `first`.
  void reencode(const fs::path& src, std::uint64_t at, std::uint64_t first, std::uint64_t count) {
    if (count == 0) return;
    DayFileReader r(src, at);
    for (std::uint64_t k = 0; k < count; ++k) {
      auto rec = r.next();
      if (!rec) throw Mismatch("re-reading stopped early");
      if (!dropped(first + k)) add(*rec);
    }
  }

  BuildResult build_once(bool full) {
    out_ = open_or_throw(side_, O_WRONLY | O_CREAT | O_TRUNC);
    member_.clear();
    if (f_) {
      const fs::path src = dir_ / f_->name;
      UniqueFd in = open_or_throw(src, O_RDONLY);
      for (const Segment& seg : f_->segments) {
        const std::uint64_t seg_end_rec = seg.first_record + seg.records;
        if (full) {
          DayFileReader r(src, seg.start);
          std::uint64_t n = seg.first_record - 1;
          while (auto rec = r.next()) {
            if (++n >= seg_end_rec) break;
            if (!dropped(n)) add(*rec);
          }
          if (n + 1 < seg_end_rec) throw std::runtime_error("re-reading " + f_->name + " stopped early");
          continue;
        }
        const std::uint64_t intact_end = seg.damage ? seg.cut : f_->size;
        std::vector<const Member*> ms;
        for (const Member& m : f_->members)
          if (m.first_record >= seg.first_record && m.first_record < seg_end_rec) ms.push_back(&m);
        // Members holding no dropped record are copied byte for byte, in runs; the others re-encoded.
        std::size_t i = 0;
        bool in_run = false;
        std::uint64_t run_begin = 0;
        auto close_run = [&](std::uint64_t end) {
          if (!in_run) return;
          flush();
          copy_range(in.get(), run_begin, end, out_.get(), src);
          in_run = false;
        };
        for (; i < ms.size() && ms[i]->offset < intact_end; ++i) {
          const Member& m = *ms[i];
          const auto lo = std::lower_bound(f_->drop.begin(), f_->drop.end(), m.first_record);
          const bool dirty = lo != f_->drop.end() && *lo < m.first_record + m.records;
          if (!dirty) {
            if (!in_run) run_begin = i == 0 ? seg.start : m.offset;
            in_run = true;
            continue;
          }
          close_run(m.offset);
          reencode(src, m.offset, m.first_record, m.records);
        }
        close_run(intact_end);
        // The tail: records of members at or past the cut (the damaged member's readable part).
        if (i < ms.size()) {
          std::uint64_t count = 0;
          for (std::size_t k = i; k < ms.size(); ++k) count += ms[k]->records;
          reencode(src, intact_end, ms[i]->first_record, count);
        }
      }
    }
    for (const Incoming& x : incoming_) add(x.bytes);
    flush();
    if (fsync_) sync_data(out_.get(), side_);
    out_ = UniqueFd();
    return check();
  }

  // Reads the new file back: it must hold exactly the records planned (count and id digest), each
  // decoding, carrying its id and belonging to this day.
  BuildResult check() {
    std::uint64_t expected = incoming_.size();
    std::uint64_t digest = 0;
    for (const auto& x : incoming_) digest += id_digest(x.ref.id);
    if (f_) {
      expected += f_->kept;
      digest += f_->kept_digest;
    }
    BuildResult res;
    res.size = file_size_or_zero(side_);
    DayFileReader r(side_);
    Event ev;
    EventValidator v(ValidationOptions{true, false});
    Sha256Hasher hasher;
    std::uint64_t got_digest = 0;
    while (auto rec = r.next()) {
      if (decode_proto_event(*rec, ev) || v.check_id(ev) || day_number(ev.created_at) != day_)
        throw Mismatch("a rebuilt record does not verify");
      got_digest += id_digest(ev.id);
      IndexRow row;
      row.id = ev.id;
      row.pubkey = ev.pubkey;
      row.created_at = ev.created_at;
      row.kind = ev.kind;
      row.file_name = name_;
      row.member_offset = r.record_member_offset();
      row.tags = index_tags(ev, hasher);
      res.rows.push_back(std::move(row));
    }
    res.records = res.rows.size();
    if (r.damage() || res.records != expected || got_digest != digest)
      throw Mismatch(fmt::format("rebuilt {} holds {} records, expected {}", name_, res.records, expected));
    return res;
  }

  fs::path dir_;
  fs::path side_;
  std::string name_;
  std::int64_t day_;
  const FileScan* f_;
  const std::vector<Incoming>& incoming_;
  bool fsync_;
  GzipMemberCompressor gz_;
  UniqueFd out_;
  std::string member_;
  std::string packed_;
};

bool same_row(const IndexRow& a, const IndexRow& b) {
  return a.id == b.id && a.pubkey == b.pubkey && a.created_at == b.created_at && a.kind == b.kind &&
         a.file_name == b.file_name && a.member_offset == b.member_offset;
}

void crash_point(const RepairOptions& opt, std::string_view step) {
  if (opt.crash_point) opt.crash_point(step);
}

void require_archive(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(fmt::format("no archive at {}: not a directory", dir.string()));
  bool any_day_file = false;
  for (const auto& e : fs::directory_iterator(dir))
    if (parse_day_file_name(e.path().filename().string())) any_day_file = true;
  if (!any_day_file && !fs::exists(dir / "index.db", ec))
    throw std::runtime_error(fmt::format("no archive at {}: neither index.db nor day files", dir.string()));
}

// One file to rebuild: an existing one (f) or a new one for events moved in from other days.
struct Plan {
  std::string name;
  std::int64_t day = 0;
  const FileScan* f = nullptr;
  bool keep_original = false;
};

// One repair, step by step: files rebuilt beside the originals (a crash changes nothing), one index
// transaction that describes them and lists the renames, then the renames.
class Repairer {
 public:
  Repairer(const fs::path& dir, const RepairOptions& opt, ArchiveIndex& index, ArchiveScan& scan, RepairReport& rep)
      : dir_(dir), rdir_(dir / kRepairDirName), opt_(opt), index_(index), s_(scan), rep_(rep) {
    for (std::size_t i = 0; i < s_.files.size(); ++i) {
      by_name_[s_.files[i].name] = i;
      if (s_.files[i].unreadable) unreadable_.insert(s_.files[i].name);
    }
  }

  void run() {
    gather_moved_records();
    plan_files();
    build_files();
    crash_point(opt_, "prepared");
    commit_index();
    crash_point(opt_, "committed");
    std::error_code ec;
    if (fs::exists(dir_ / kJournalFileName, ec)) truncate_to(dir_ / kJournalFileName, 0);
    report_row_changes();
    if (!redo_.empty()) finish_interrupted_repair(dir_, index_, opt_.fsync);  // the same code as after a crash
    crash_point(opt_, "done");
    if (fs::is_directory(rdir_, ec) && fs::is_empty(rdir_, ec)) fs::remove(rdir_, ec);
  }

 private:
  // Moved records, read back from their sources, grouped by destination file.
  void gather_moved_records() {
    std::map<std::size_t, std::set<std::uint64_t>> wanted;
    for (const Move& m : s_.moves) wanted[m.source].insert(m.ref.number);
    std::map<std::size_t, std::map<std::uint64_t, std::string>> bytes;
    for (auto& [fi, nums] : wanted) bytes[fi] = read_records(dir_ / s_.files[fi].name, s_.files[fi], nums);
    for (const Move& m : s_.moves) {
      const std::string home = day_file_name(day_number(m.ref.created_at));
      if (unreadable_.contains(home))
        throw std::runtime_error(fmt::format("cannot move events into {}: it is unreadable", home));
      incoming_[home].push_back({m.ref, std::move(bytes[m.source][m.ref.number])});
    }
  }

  void plan_files() {
    for (const auto& f : s_.files) {
      if (f.unreadable) continue;
      if (f.drop.empty() && !f.damaged() && !incoming_.contains(f.name)) continue;
      const auto invalid = f.counts[static_cast<std::size_t>(ProblemKind::undecodable_record)] +
                           f.counts[static_cast<std::size_t>(ProblemKind::invalid_id)] +
                           f.counts[static_cast<std::size_t>(ProblemKind::invalid_signature)];
      plans_.push_back({f.name, f.day, &f, f.damaged() || invalid > 0});
    }
    for (const auto& [name, v] : incoming_)
      if (!by_name_.contains(name)) plans_.push_back({name, *parse_day_file_name(name), nullptr, false});
  }

  // Step 1: rebuilt files beside the originals, checked and synced.
  void build_files() {
    if (!plans_.empty()) fs::create_directories(rdir_);
    const auto stamp = std::to_string(std::time(nullptr));
    for (const Plan& p : plans_) {
      static const std::vector<Incoming> none;
      auto it = incoming_.find(p.name);
      const fs::path side = rdir_ / (p.name + ".new");
      BuildResult b = FileBuilder(dir_, side, p.name, p.day, p.f, it == incoming_.end() ? none : it->second, opt_.fsync).build();
      const std::string backup = p.keep_original ? backup_name(p.name, stamp) : "-";
      if (b.records == 0) fs::remove(side);
      redo_ += fmt::format("{}\t{}\t{}\n", b.records == 0 ? "remove" : "replace", p.name, backup);
      report_file(p, b, backup);
      built_.emplace(p.name, std::move(b));
    }
    rep_.records_moved = s_.moves.size();
    if (!plans_.empty() && opt_.fsync) sync_dir(rdir_);
  }

  std::string backup_name(const std::string& name, const std::string& stamp) const {
    std::error_code ec;
    std::string backup = name + "." + stamp + ".orig";
    for (int k = 1; fs::exists(rdir_ / backup, ec); ++k) backup = fmt::format("{}.{}-{}.orig", name, stamp, k);
    return backup;
  }

  void report_file(const Plan& p, const BuildResult& b, const std::string& backup) {
    if (b.records == 0) {
      rep_.files_removed += 1;
      rep_.actions.push_back(fmt::format("{}: removed, no valid event left", p.name));
    } else {
      rep_.files_rewritten += 1;
      std::string what = fmt::format("{}: rewritten ({} events, {} bytes", p.name, b.records, b.size);
      if (p.f) what += fmt::format(", was {} bytes", p.f->size);
      rep_.actions.push_back(what + ")");
    }
    if (p.keep_original) {
      rep_.backups.push_back((rdir_ / backup).string());
      rep_.actions.push_back(fmt::format("{}: original kept as {}", p.name, (rdir_ / backup).string()));
    }
    if (!p.f) return;
    for (const Segment& seg : p.f->segments) {
      if (!seg.damage) continue;
      rep_.damaged_bytes += seg.lost_end - seg.cut;
      rep_.actions.push_back(fmt::format("{}: damaged bytes {}..{} cut, their {} valid record(s) re-appended ({})", p.name,
                                         seg.cut, seg.lost_end, seg.salvageable, seg.damage->message));
    }
    rep_.records_salvaged += p.f->salvageable;
    rep_.records_dropped += p.f->drop.size() - std::count_if(s_.moves.begin(), s_.moves.end(), [&](const Move& m) {
                              return s_.files[m.source].name == p.name;
                            });
  }

  // Step 2: one index transaction: rows, file lengths, the writer's journal retired, the renames to do.
  void commit_index() {
    index_.begin();
    try {
      fix_rows();
      fix_files_table();
      // The writer's journal describes lengths from before this repair; make it stale.
      if (s_.journal && s_.journal->seq > s_.commit_seq) index_.set_meta(kCommitSeqKey, std::to_string(s_.journal->seq));
      if (!redo_.empty()) index_.set_meta(kRedoKey, redo_);
      index_.commit();
    } catch (...) {
      index_.rollback();
      throw;
    }
  }

  void fix_rows() {
    std::vector<Id32> orphans;
    for (const Id32& id : s_.orphan_rows) {
      auto row = index_.get(id);
      if (row && unreadable_.contains(row->file_name)) continue;  // its file may come back readable
      orphans.push_back(id);
    }
    rep_.rows_deleted = index_.erase_rows(orphans);
    std::vector<IndexRow> puts;
    auto want = [&](const IndexRow& row) {
      auto cur = index_.get(row.id);
      if (cur && same_row(*cur, row)) return;
      (cur ? rep_.rows_updated : rep_.rows_inserted) += 1;
      puts.push_back(row);
    };
    for (const auto& [name, b] : built_)
      for (const IndexRow& row : b.rows) want(row);
    for (const auto& f : s_.files) {
      if (built_.contains(f.name) || f.row_fix.empty()) continue;
      // A missing row is inserted with its tags (for the tag index), so the records are read again.
      std::set<std::uint64_t> numbers;
      for (const RecordRef& x : f.row_fix) numbers.insert(x.number);
      const auto records = read_records(dir_ / f.name, f, numbers);
      Event ev;
      Sha256Hasher hasher;
      for (const RecordRef& x : f.row_fix) {
        IndexRow row;
        if (!decode_proto_event(records.at(x.number), ev)) row.tags = index_tags(ev, hasher);
        row.id = x.id;
        row.pubkey = x.pubkey;
        row.created_at = x.created_at;
        row.kind = x.kind;
        row.file_name = f.name;
        row.member_offset = x.member;
        want(row);
      }
    }
    index_.put_rows(puts);
  }

  void fix_files_table() {
    std::set<std::string> present;
    for (const auto& f : s_.files) {
      auto it = built_.find(f.name);
      if (f.unreadable) {
        present.insert(f.name);
      } else if (it == built_.end()) {
        index_.set_file({f.name, f.size, f.kept});
        present.insert(f.name);
      } else if (it->second.records > 0) {
        index_.set_file({f.name, it->second.size, it->second.records});
        present.insert(f.name);
      }
    }
    for (const auto& [name, b] : built_)
      if (!by_name_.contains(name)) {
        index_.set_file({name, b.size, b.records});
        present.insert(name);
      }
    for (const FileRow& r : index_.files())
      if (!present.contains(r.file_name)) {
        index_.erase_file(r.file_name);
        rep_.actions.push_back(fmt::format("{}: dropped from the files table (no such file)", r.file_name));
      }
  }

  void report_row_changes() {
    if (rep_.rows_deleted) rep_.actions.push_back(fmt::format("index: deleted {} rows without events", rep_.rows_deleted));
    if (rep_.rows_inserted) rep_.actions.push_back(fmt::format("index: inserted {} missing rows", rep_.rows_inserted));
    if (rep_.rows_updated) rep_.actions.push_back(fmt::format("index: corrected {} rows", rep_.rows_updated));
  }

  const fs::path& dir_;
  const fs::path rdir_;
  const RepairOptions& opt_;
  ArchiveIndex& index_;
  ArchiveScan& s_;
  RepairReport& rep_;
  std::set<std::string> unreadable_;
  std::map<std::string, std::size_t> by_name_;
  std::map<std::string, std::vector<Incoming>> incoming_;
  std::vector<Plan> plans_;
  std::map<std::string, BuildResult> built_;
  std::string redo_;
};

}  // namespace

RepairReport repair_archive(const fs::path& dir, const RepairOptions& opt,
                            const std::function<void(const VerifyProgress&)>& progress) {
  require_archive(dir);
  RepairReport rep;
  ArchiveLock lock = ArchiveLock::acquire(dir, ArchiveLock::Kind::exclusive);
  ArchiveIndex index = ArchiveIndex::open(dir / "index.db", ArchiveIndex::Mode::read_write);
  for (auto& a : finish_interrupted_repair(dir, index, opt.fsync)) rep.actions.push_back("finished an interrupted repair: " + a);
  std::error_code ec;
  const fs::path rdir = dir / kRepairDirName;
  if (fs::is_directory(rdir, ec))
    for (const auto& e : fs::directory_iterator(rdir))
      if (e.path().extension() == ".new") fs::remove(e.path());  // from a repair that never committed

  ArchiveScan s = scan_archive(dir, opt.verify, /*lock=*/false, progress);
  rep.before = s.report;
  if (s.report.ok()) {
    rep.changed = !rep.actions.empty();
    rep.after = s.report;
    return rep;
  }
  Repairer(dir, opt, index, s, rep).run();
  rep.changed = true;
  rep.after = scan_archive(dir, opt.verify, /*lock=*/false, progress).report;
  return rep;
}

}  // namespace pb
