// Compacting one day file (compact.hpp): rewrite beside, read back, one index transaction, rename.
#include "archive/compact.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

#include "archive/committed_files.hpp"
#include "archive/day.hpp"
#include "archive/gzip_member.hpp"
#include "archive/proto_codec.hpp"
#include "archive/repair_journal.hpp"
#include "base/posix_file.hpp"
#include "nostr/hex.hpp"

namespace pb {
namespace fs = std::filesystem;
namespace {

// The id of a record: our writer (and protobuf's serializer) puts field 1 first, as 0x0a 0x40 and 64
// lowercase hex chars; anything else is decoded whole.
bool record_id(std::string_view rec, Id32& id, Event& scratch) {
  if (rec.size() >= 66 && rec[0] == 0x0a && rec[1] == 0x40 && decode_lower_hex(rec.substr(2, 64), id)) return true;
  if (decode_proto_event(rec, scratch)) return false;
  id = scratch.id;
  return true;
}

// An error after the index commit: the swap is finished by the next open, the writer must not go on.
struct PastNoReturn : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void crash_point(const CompactOptions& o, std::string_view step) {
  if (o.crash_point) o.crash_point(step);
}

// The rows of one file, found by id; `order` lists them in the order their records were written.
struct FileRows {
  std::vector<IndexRow> rows;
  std::unordered_map<Id32, std::size_t, Id32Hash> by_id;
  std::vector<std::size_t> order;
};

FileRows load_rows(ArchiveIndex& index, const std::string& name, std::int64_t day) {
  FileRows f;
  index.for_each_row_created_between(day * 86400, day * 86400 + 86399, [&](const IndexRow& r) {
    if (r.file_name == name) f.rows.push_back(r);
  });
  f.by_id.reserve(f.rows.size());
  for (std::size_t i = 0; i < f.rows.size(); ++i) f.by_id.emplace(f.rows[i].id, i);
  return f;
}

// Writes the new file: the old file's committed records in order, sealed into members exactly as the
// writer seals them (once a member holds member_bytes of records), so the result is what one
// uninterrupted writer transaction would have written. Each row gets its new member offset. Sorting, it
// holds every record until finish() and writes them in time order.
class Rewriter {
 public:
  Rewriter(const fs::path& side, const ArchiveWriterOptions& wo, FileRows& rows, const CompactOptions& o)
      : side_(side), fd_(open_or_throw(side, O_WRONLY | O_CREAT | O_TRUNC)), gz_(wo.compression_level),
        member_bytes_(wo.member_bytes), rows_(rows), matched_(rows.rows.size(), false), sort_(o.sort_by_time),
        sort_max_bytes_(o.sort_max_bytes) {
    if (sort_) held_.resize(rows.rows.size());
  }

  // Adds one record found at `old_member` of the old file; returns a problem when the index disagrees.
  std::optional<std::string> add(std::string_view rec, std::uint64_t old_member) {
    Id32 id{};
    if (!record_id(rec, id, scratch_)) return fmt::format("an undecodable record in the member at {}", old_member);
    const auto it = rows_.by_id.find(id);
    if (it == rows_.by_id.end() || rows_.rows[it->second].member_offset != old_member || matched_[it->second])
      return fmt::format("record {} (member at {}) has no index row of its own", to_hex(id), old_member);
    matched_[it->second] = true;
    rows_.order.push_back(it->second);
    if (sort_) {
      held_bytes_ += rec.size();
      if (held_bytes_ > sort_max_bytes_) too_big_ = true;
      if (!too_big_) held_[it->second].assign(rec);
      return std::nullopt;
    }
    append(rec, it->second);
    return std::nullopt;
  }

  // Sorting: the file holds more records than sort_max_bytes (nothing was written).
  bool too_big() const { return too_big_; }
  // Sorting: the records were already in time order.
  bool was_sorted() const { return sorted_before_; }

  // Writes what is held (sorting), seals the last member; returns the new file's length.
  std::uint64_t finish() {
    if (sort_) {
      const auto by_time = [&](std::size_t a, std::size_t b) {
        const IndexRow &x = rows_.rows[a], &y = rows_.rows[b];
        return x.created_at != y.created_at ? x.created_at < y.created_at : x.id < y.id;
      };
      sorted_before_ = std::is_sorted(rows_.order.begin(), rows_.order.end(), by_time);
      std::sort(rows_.order.begin(), rows_.order.end(), by_time);  // ids are unique: no ties
      for (const std::size_t i : rows_.order) {
        append(held_[i], i);
        std::string().swap(held_[i]);
      }
    }
    seal();
    return size_;
  }
  std::uint64_t members() const { return members_; }
  std::size_t matched() const { return rows_.order.size(); }
  void sync() { sync_data(fd_.get(), side_); }

 private:
  void append(std::string_view rec, std::size_t row) {
    append_varint(pending_, rec.size());
    pending_.append(rec);
    pending_rows_.push_back(row);
    if (pending_.size() >= member_bytes_) seal();
  }

  void seal() {
    if (pending_.empty()) return;
    out_.clear();
    gz_.compress({reinterpret_cast<const std::uint8_t*>(pending_.data()), pending_.size()}, out_);
    write_all(fd_.get(), out_, side_);
    for (std::size_t i : pending_rows_) rows_.rows[i].member_offset = size_;
    size_ += out_.size();
    ++members_;
    pending_.clear();
    pending_rows_.clear();
  }

  fs::path side_;
  UniqueFd fd_;
  GzipMemberCompressor gz_;
  std::size_t member_bytes_;
  FileRows& rows_;
  std::vector<bool> matched_;
  std::string pending_, out_;
  std::vector<std::size_t> pending_rows_;
  std::uint64_t size_ = 0, members_ = 0;
  Event scratch_;
  const bool sort_;
  const std::size_t sort_max_bytes_;
  std::vector<std::string> held_;  // sorting: each row's record, by row index
  std::size_t held_bytes_ = 0;
  bool too_big_ = false, sorted_before_ = false;
};

// The new file must read cleanly and hold exactly the planned records, in order, each in the member its
// row now names (a check before the point of no return).
std::optional<std::string> read_back(const fs::path& side, std::uint64_t size, const FileRows& f) {
  std::size_t k = 0;
  Event scratch;
  std::optional<std::string> bad;
  auto damage = read_committed_records(side, size, [&](std::string_view rec, std::uint64_t member) {
    Id32 id{};
    if (k >= f.order.size() || !record_id(rec, id, scratch) || id != f.rows[f.order[k]].id ||
        member != f.rows[f.order[k]].member_offset) {
      bad = fmt::format("record {} of the rewritten file is not the one planned", k + 1);
      return false;
    }
    ++k;
    return true;
  });
  if (damage) return "the rewritten file does not read back: " + *damage;
  if (bad) return bad;
  if (k != f.order.size()) return fmt::format("the rewritten file holds {} records, not {}", k, f.order.size());
  return std::nullopt;
}

CompactResult skip(CompactResult r, std::string why) {
  r.skipped = std::move(why);
  return r;
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

// The point of no return: one index transaction moves the rows and records the rename to do; then the
// rename, and the redo is cleared exactly as after a crash (finish_interrupted_repair).
void swap_in(ArchiveWriter& w, const std::string& name, const fs::path& side, const FileRows& f, std::uint64_t new_size,
             std::uint64_t events, const CompactOptions& o) {
  ArchiveIndex& index = w.index();
  const bool fsync = w.options().fsync;
  try {
    index.put_rows(f.rows);
    index.set_file({name, new_size, events});
    index.set_meta(kRepairRedoKey, "replace\t" + name + "\t-\n");
    index.commit();
  } catch (...) {
    index.rollback();  // the writer's open transaction was empty: nothing of its own is lost
    index.begin();
    throw;
  }
  try {
    crash_point(o, "committed");
    fs::rename(side, w.dir() / name);
    if (fsync) sync_dir(w.dir());
    crash_point(o, "renamed");
    finish_interrupted_repair(w.dir(), index, fsync);  // nothing left to rename: clears the redo
    index.begin();                                     // the writer always keeps a transaction open
  } catch (const std::exception& e) {
    throw PastNoReturn(name + ": after the index commit: " + e.what());
  }
}

CompactResult rewrite_and_swap(ArchiveWriter& w, const DayFileLayout& layout, const CompactOptions& o, CompactResult r,
                               std::chrono::steady_clock::time_point t0) {
  const std::string& name = layout.file;
  FileRows f = load_rows(w.index(), name, *parse_day_file_name(name));
  const fs::path rdir = w.dir() / kRepairDirName;
  fs::create_directories(rdir);
  const fs::path side = rdir / (name + ".new");
  std::uint64_t new_size = 0;
  {
    Rewriter rw(side, w.options(), f, o);
    std::optional<std::string> problem;
    bool first = true;
    auto damage = read_committed_records(w.dir() / name, layout.bytes, [&](std::string_view rec, std::uint64_t member) {
      problem = rw.add(rec, member);
      if (first && rw.members() > 0) {
        first = false;
        crash_point(o, "writing");
      }
      return !problem && !rw.too_big();  // too big to sort: no use reading on
    });
    if (rw.too_big()) {
      remove_quietly(side);
      return skip(r, fmt::format("too large to sort in memory (over {} MiB of records)", o.sort_max_bytes >> 20));
    }
    if (damage) problem = "damaged: " + *damage;
    if (!problem && rw.matched() != f.rows.size())
      problem = fmt::format("{} of its {} index rows match no record", f.rows.size() - rw.matched(), f.rows.size());
    if (problem) {
      remove_quietly(side);
      return skip(r, *problem + " (run `proton-beam verify --repair`)");
    }
    new_size = rw.finish();
    r.members_after = rw.members();
    const bool shrinks = r.members_after < r.members_before && new_size < layout.bytes;
    if (!shrinks && (!o.sort_by_time || rw.was_sorted())) {
      remove_quietly(side);
      r.members_after = r.members_before;
      return skip(r, o.sort_by_time ? kAlreadyInTimeOrder : "rewriting would not make it smaller");
    }
    r.sorted = o.sort_by_time;
    if (w.options().fsync) rw.sync();
  }
  if (auto bad = read_back(side, new_size, f)) {
    remove_quietly(side);
    throw std::runtime_error(name + ": " + *bad);
  }
  crash_point(o, "prepared");
  swap_in(w, name, side, f, new_size, layout.events, o);
  try {
    w.forget_day(name);
  } catch (const std::exception& e) {
    throw PastNoReturn(e.what());
  }
  std::error_code ec;
  fs::remove(rdir, ec);  // only when empty: kept originals of repairs stay
  r.compacted = true;
  r.bytes_after = new_size;
  r.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  crash_point(o, "done");
  return r;
}

}  // namespace

CompactResult compact_day_file(ArchiveWriter& w, const std::string& name, const CompactOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!w.idle()) throw std::logic_error("compact: the writer has uncommitted work (compact right after commit())");
  ArchiveIndex& index = w.index();
  if (index.meta(kRepairRedoKey)) {  // never expected (the writer finished it on open); finish it first
    index.commit();
    finish_interrupted_repair(w.dir(), index, w.options().fsync);
    index.begin();
  }
  const DayFileLayout layout = day_file_layout(index, name);
  CompactResult r;
  r.file = name;
  r.events = layout.events;
  r.members_before = r.members_after = layout.members;
  r.bytes_before = r.bytes_after = layout.bytes;
  if (layout.rows != layout.events)
    return skip(r, fmt::format("the index has {} rows for it but counts {} events: run `proton-beam verify --repair`",
                               layout.rows, layout.events));
  if (layout.members < 2) return skip(r, "already one member");
  if (!o.force && !o.sort_by_time && !needs_compaction(layout, o.policy, w.options().member_bytes))
    return skip(r, "its members are already large");
  try {
    return rewrite_and_swap(w, layout, o, r, t0);
  } catch (const PastNoReturn&) {
    throw;
  } catch (const std::exception& e) {
    r.failed = true;
    return skip(r, e.what());
  }
}

}  // namespace pb
