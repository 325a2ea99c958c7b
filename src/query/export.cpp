#include "query/export.hpp"

#include <algorithm>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "archive/day.hpp"
#include "archive/day_file_reader.hpp"
#include "nostr/hex.hpp"
#include "archive/proto_codec.hpp"

namespace pb {
namespace {

constexpr std::uint64_t kProgressEveryEvents = 4096;

void note_problem(ExportCounters& c, std::string message) {
  ++c.problem_count;
  if (c.problems.size() < kMaxProblemMessages) c.problems.push_back(std::move(message));
}

// The id of a record without decoding the rest: our writer (and protobuf's serializer) puts field 1
// first, as 0x0a 0x40 and 64 lowercase hex chars. Anything else falls back to a full decode.
bool peek_record_id(std::string_view rec, Id32& id, Event& scratch) {
  if (rec.size() >= 66 && rec[0] == 0x0a && rec[1] == 0x40 && decode_lower_hex(rec.substr(2, 64), id)) return true;
  if (decode_proto_event(rec, scratch)) return false;
  id = scratch.id;
  return true;
}

// One page of index rows in index order: decodes the members they live in and emits the events in the
// rows' order, each as soon as every row before it is resolved, so only events decoded ahead of the
// emit position are buffered.
class PageExporter {
 public:
  PageExporter(const std::filesystem::path& dir, ArchiveIndex& index, const EventSink& sink, const ExportOptions& opt,
               ExportCounters& c)
      : dir_(dir), index_(index), sink_(sink), opt_(opt), c_(c) {}

  // Returns false when the sink asked to stop.
  bool run(std::span<const IndexRow> rows) {
    rows_ = rows;
    group_members();
    events_.assign(rows.size(), Event{});
    state_.assign(rows.size(), State::pending);
    std::size_t emit = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (state_[i] == State::pending) {
        decode_member(member_of_row_[i]);
        if (opt_.on_progress) opt_.on_progress(c_);
      }
      for (; emit <= i; ++emit) {
        if (state_[emit] != State::found) continue;
        ++c_.events;
        if (!sink_(events_[emit])) return false;
        events_[emit] = Event{};  // release its tags and content now
      }
    }
    return true;
  }

 private:
  enum class State : std::uint8_t { pending, found, missing };
  struct Member {
    std::size_t first;  // range in by_member_ of the row positions in this member
    std::size_t last;
  };

  void group_members() {
    by_member_.resize(rows_.size());
    for (std::size_t i = 0; i < rows_.size(); ++i) by_member_[i] = i;
    std::sort(by_member_.begin(), by_member_.end(), [&](std::size_t a, std::size_t b) {
      const auto& ra = rows_[a];
      const auto& rb = rows_[b];
      if (ra.file_name != rb.file_name) return ra.file_name < rb.file_name;
      if (ra.member_offset != rb.member_offset) return ra.member_offset < rb.member_offset;
      return ra.id < rb.id;  // sorted ids per member, for binary search while decoding
    });
    members_.clear();
    member_of_row_.assign(rows_.size(), 0);
    for (std::size_t k = 0; k < by_member_.size(); ++k) {
      const auto& r = rows_[by_member_[k]];
      if (members_.empty() || r.file_name != rows_[by_member_[members_.back().first]].file_name ||
          r.member_offset != rows_[by_member_[members_.back().first]].member_offset)
        members_.push_back({k, k});
      members_.back().last = k + 1;
      member_of_row_[by_member_[k]] = members_.size() - 1;
    }
  }

  void decode_member(std::size_t m) {
    const Member& mem = members_[m];
    const IndexRow& first = rows_[by_member_[mem.first]];
    const std::span<const std::size_t> wanted(by_member_.data() + mem.first, mem.last - mem.first);
    std::size_t remaining = wanted.size();
    ++c_.members_decoded;
    std::string where = first.file_name + " member at offset " + std::to_string(first.member_offset);

    auto finish = [&](const std::string& why) {
      for (const std::size_t pos : wanted) {
        if (state_[pos] != State::pending || reread_moved(pos)) continue;
        state_[pos] = State::missing;
        note_problem(c_, "event " + to_hex(rows_[pos].id) + " (" + where + "): " + why);
      }
    };
    // The name comes from the index; only a real day-file name is ever joined to the archive path.
    if (!parse_day_file_name(first.file_name)) return finish("not a day-file name");

    std::optional<DayFileReader> reader;
    try {
      reader.emplace(dir_ / first.file_name, first.member_offset);
    } catch (const std::exception& e) {
      return finish(e.what());
    }
    Id32 id{};
    while (remaining > 0) {
      const auto rec = reader->next();
      if (!rec) {
        const auto& d = reader->damage();
        return finish(d ? "day file damaged at byte " + std::to_string(d->offset) + ": " + d->message
                        : "not in its member (end of file reached)");
      }
      // Our writer never splits a record across members: a record starting in a later member means
      // this member is done.
      if (reader->record_member_offset() != first.member_offset) break;
      ++c_.records_read;
      if (!peek_record_id(*rec, id, scratch_)) continue;  // an undecodable record is not one we want
      const auto it = std::lower_bound(wanted.begin(), wanted.end(), id,
                                       [&](std::size_t pos, const Id32& v) { return rows_[pos].id < v; });
      if (it == wanted.end() || rows_[*it].id != id || state_[*it] != State::pending) continue;
      if (auto err = decode_proto_event(*rec, events_[*it])) {
        state_[*it] = State::missing;
        note_problem(c_, "event " + to_hex(id) + " (" + where + "): undecodable record: " + *err);
      } else {
        state_[*it] = State::found;
      }
      --remaining;
    }
    if (remaining > 0) finish("not in its member");
  }

  // Compaction (docs/archive-format.md) may have replaced the file since the row was read: when the index
  // now names another member, the event is read from there (once).
  bool reread_moved(std::size_t pos) {
    const IndexRow& old = rows_[pos];
    const auto fresh = index_.get(old.id);
    if (!fresh || (fresh->file_name == old.file_name && fresh->member_offset == old.member_offset) ||
        !parse_day_file_name(fresh->file_name))
      return false;
    try {
      DayFileReader reader(dir_ / fresh->file_name, fresh->member_offset);
      Id32 id{};
      while (const auto rec = reader.next()) {
        if (reader.record_member_offset() != fresh->member_offset) break;
        ++c_.records_read;
        if (!peek_record_id(*rec, id, scratch_) || id != old.id) continue;
        if (decode_proto_event(*rec, events_[pos])) return false;
        state_[pos] = State::found;
        return true;
      }
    } catch (const std::exception&) {
      // unreadable: reported as missing with the original row's member
    }
    return false;
  }

  const std::filesystem::path& dir_;
  ArchiveIndex& index_;
  const EventSink& sink_;
  const ExportOptions& opt_;
  ExportCounters& c_;

  std::span<const IndexRow> rows_;
  std::vector<std::size_t> by_member_;      // row positions sorted by (file, member, id)
  std::vector<Member> members_;
  std::vector<std::size_t> member_of_row_;  // row position -> members_ index
  std::vector<Event> events_;               // row position -> decoded event (until emitted)
  std::vector<State> state_;
  Event scratch_;
};

}  // namespace

bool has_filter(const IndexQuery& q) {
  return !q.ids.empty() || !q.authors.empty() || !q.kinds.empty() || q.since || q.until;
}

ExportCounters export_file_order(const std::filesystem::path& dir, const EventSink& sink, const ExportOptions& opt) {
  ArchiveIndex index = open_archive_index(dir);
  const auto files = committed_day_files(index);
  ExportCounters c;
  for (const auto& f : files) c.bytes_total += f.committed_bytes;

  Event ev;
  bool stopped = false;
  std::uint64_t bytes_before = 0;
  for (const auto& f : files) {
    if (stopped) break;
    ++c.files_read;
    std::uint64_t record_no = 0;  // in this file, for messages
    auto problem = read_committed_records(dir / f.name, f.committed_bytes, [&](std::string_view rec, std::uint64_t member) {
      ++c.records_read;
      ++record_no;
      if (auto err = decode_proto_event(rec, ev)) {
        note_problem(c, f.name + ": record " + std::to_string(record_no) + " (in the member at offset " +
                            std::to_string(member) + ") does not decode: " + *err);
        return true;
      }
      ++c.events;
      if (!sink(ev)) {
        stopped = true;
        return false;
      }
      if (opt.on_progress && c.events % kProgressEveryEvents == 0) {
        c.bytes_done = bytes_before + member;
        opt.on_progress(c);
      }
      return true;
    });
    if (problem) note_problem(c, std::move(*problem));
    bytes_before += f.committed_bytes;
    c.bytes_done = bytes_before;
  }
  if (opt.on_progress) opt.on_progress(c);
  return c;
}

ExportCounters export_matching(const std::filesystem::path& dir, const IndexQuery& q, const EventSink& sink,
                               const ExportOptions& opt) {
  ArchiveIndex index = open_archive_index(dir);
  ExportCounters c;
  PageExporter pages(dir, index, sink, opt, c);
  const std::size_t chunk = std::max<std::size_t>(1, opt.chunk_rows);

  // Keyset paging over (created_at DESC, id ASC) through the public query(): the next page is the rows
  // with created_at <= the last one emitted, minus those already emitted at that very second (a prefix of
  // the page, since ties come in id order). `at_last` counts them, so the page asks for that many extra.
  IndexQuery page = q;
  std::uint64_t remaining = q.limit.value_or(std::numeric_limits<std::uint64_t>::max());
  std::optional<IndexRow> last;
  std::uint64_t at_last = 0;
  while (remaining > 0) {
    const std::uint64_t want = std::min<std::uint64_t>(chunk, remaining);
    if (last) page.until = last->created_at;
    page.limit = want + at_last;
    const auto rows = index.query(page);
    std::size_t start = 0;
    if (last) {
      while (start < rows.size() && rows[start].created_at == last->created_at && rows[start].id <= last->id) ++start;
    }
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(rows.size() - start, want));
    if (n == 0) break;
    const std::span<const IndexRow> todo(rows.data() + start, n);
    c.index_rows += n;
    if (!pages.run(todo)) break;
    remaining -= n;
    if (n < want) break;  // the index has no more rows

    const IndexRow& tail = todo.back();
    const bool same_second = last && last->created_at == tail.created_at;
    at_last = (same_second ? at_last : 0) +
              static_cast<std::uint64_t>(std::count_if(todo.begin(), todo.end(), [&](const IndexRow& r) {
                return r.created_at == tail.created_at;
              }));
    last = tail;
  }
  if (opt.on_progress) opt.on_progress(c);
  return c;
}

}  // namespace pb
