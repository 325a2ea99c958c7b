#include "clickhouse/importer.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>
#include <span>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "clickhouse/checkpoint.hpp"
#include "clickhouse/input_files.hpp"
#include "clickhouse/row_binary.hpp"
#include "clickhouse/table_layout.hpp"
#include "base/bounded_queue.hpp"
#include "archive/day_file_reader.hpp"
#include "archive/gzip_member.hpp"
#include "nostr/hex.hpp"
#include "archive/proto_codec.hpp"

namespace pb::ch {

std::uint64_t ImportSummary::rejected_total() const {
  std::uint64_t n = 0;
  for (const auto& [reason, count] : rejected) n += count;
  return n;
}

namespace {

using Clock = std::chrono::steady_clock;

struct Batch {
  std::uint64_t seq = 0;
  std::string rows;  // RowBinary
  std::size_t count = 0;
};

// What sender threads share with the reader: counters and the first fatal error.
struct SendState {
  std::atomic<std::uint64_t> inserted{0}, retries{0}, bytes_sent{0}, batches{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::string error;

  void fail(std::string message) {
    std::lock_guard lock(mu);
    if (!failed.exchange(true)) error = std::move(message);
  }
};

std::string compress_body(GzipMemberCompressor* gz, const std::string& rows) {
  if (!gz) return rows;
  std::string out;
  gz->compress(std::span(reinterpret_cast<const std::uint8_t*>(rows.data()), rows.size()), out);
  return out;
}

class Sender {
 public:
  Sender(const ImportOptions& o, std::string insert_sql, BoundedQueue<Batch>& queue, AckTracker& tracker,
         CheckpointWriter& writer, SendState& state, unsigned index)
      : o_(o), sql_(std::move(insert_sql)), queue_(queue), tracker_(tracker), writer_(writer), state_(state),
        client_(o.endpoint), rng_(0x9e3779b9u + index) {
    if (o.compression_level > 0) gz_.emplace(o.compression_level);
  }

  void run() {
    while (auto batch = queue_.pop()) {
      if (state_.failed) continue;  // drain so the reader never blocks on a full queue
      try {
        send(*batch);
      } catch (const std::exception& e) {
        state_.fail(e.what());
      }
    }
  }

 private:
  void send(const Batch& batch) {
    const std::string body = compress_body(gz_ ? &*gz_ : nullptr, batch.rows);
    for (unsigned attempt = 0;; ++attempt) {
      const HttpResponse r = client_.post(sql_, body, gz_.has_value());
      const Outcome outcome = classify(r);
      if (outcome == Outcome::ok) {
        state_.inserted += batch.count;
        state_.bytes_sent += body.size();
        ++state_.batches;
        if (tracker_.acknowledge(batch.seq)) writer_.maybe_save(tracker_);
        return;
      }
      if (outcome == Outcome::fatal || attempt >= o_.retries) {
        state_.fail(fmt::format("insert into {}.{} failed{}: {}", o_.endpoint.database, o_.table,
                                outcome == Outcome::fatal ? "" : fmt::format(" after {} retries", attempt),
                                describe_failure(r)));
        return;
      }
      ++state_.retries;
      // Exponential backoff with jitter so parallel senders do not retry in lockstep.
      const double base = std::min(15000.0, static_cast<double>(o_.retry_base.count()) * (1u << std::min(attempt, 16u)));
      const auto wait = std::chrono::milliseconds(
          static_cast<std::int64_t>(base * std::uniform_real_distribution<double>(0.5, 1.0)(rng_)));
      spdlog::warn("insert attempt {} failed ({}); retrying in {} ms", attempt + 1, describe_failure(r), wait.count());
      const auto until = Clock::now() + wait;
      while (Clock::now() < until && !state_.failed) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (state_.failed) return;
    }
  }

  const ImportOptions& o_;
  std::string sql_;
  BoundedQueue<Batch>& queue_;
  AckTracker& tracker_;
  CheckpointWriter& writer_;
  SendState& state_;
  HttpClient client_;
  std::optional<GzipMemberCompressor> gz_;
  std::minstd_rand rng_;
};

// Reads one file from its resume point and emits batches; returns the position after the last record.
class FileReader {
 public:
  FileReader(const ImportOptions& o, const RowLayout& layout, ImportSummary& summary,
             const std::function<void(const std::string&, std::string&, std::size_t&, const FilePosition&)>& emit,
             const std::function<void()>& tick, const std::atomic<bool>& stop)
      : o_(o), layout_(layout), summary_(summary), emit_(emit), tick_(tick), stop_(stop) {}

  void read(const std::filesystem::path& path, FilePosition start) {
    const std::string key = path.string();
    const std::uint64_t size = std::filesystem::file_size(path);
    if (start.member_offset > size || (start.done && start.size > size)) {
      spdlog::warn("{}: shorter than its checkpoint position; importing it from the start", key);
      start = {};
    }
    DayFileReader reader(path, start.member_offset);
    if (!skip(reader, start.skip)) {
      // Records spanning members (files from other tools): resume by record count from the start instead.
      reader = DayFileReader(path, 0);
      start.member_offset = 0;
      if (!skip(reader, start.records))
        throw std::runtime_error(fmt::format("{}: fewer records than its checkpoint says; use --restart", key));
    }
    FilePosition pos{start.member_offset, start.skip, start.records, false, 0};
    std::string rows;
    std::size_t count = 0;
    Event ev;
    while (auto rec = reader.next()) {
      const std::uint64_t member = reader.record_member_offset();
      if (member != pos.member_offset) {
        pos.member_offset = member;
        pos.skip = 0;
      }
      ++pos.skip;
      ++pos.records;
      ++summary_.records_read;
      if (auto err = decode_proto_event(*rec, ev)) {
        reject("decode", key, pos, *err);
      } else if (auto reason = check_event(ev, layout_)) {
        reject(std::string(*reason), key, pos,
               fmt::format("id {} kind {} created_at {}", to_hex(ev.id), ev.kind, ev.created_at));
      } else {
        encode_event(rows, ev, layout_);
        if (++count == o_.batch_size) emit_(key, rows, count, pos);
      }
      if ((pos.records & 1023) == 0) {
        tick_();
        if (stop_) return;  // a sender failed: the import ends, nothing after this is acknowledged
      }
    }
    if (const auto& damage = reader.damage()) {
      summary_.damaged.push_back(fmt::format("{}: byte {}: {}", key, damage->offset, damage->message));
      spdlog::warn("{}: damaged at byte {}: {} (events before it are imported)", key, damage->offset, damage->message);
    } else {
      pos.done = true;
      pos.size = size;
    }
    emit_(key, rows, count, pos);  // the file's end (possibly no rows): marks it done once acknowledged
  }

 private:
  static bool skip(DayFileReader& reader, std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i)
      if (!reader.next()) return false;
    return true;
  }

  void reject(const std::string& reason, const std::string& file, const FilePosition& pos, const std::string& detail) {
    ++summary_.rejected[reason];
    if (o_.verbose) spdlog::info("rejected ({}): {} record {}: {}", reason, file, pos.records, detail);
  }

  const ImportOptions& o_;
  const RowLayout& layout_;
  ImportSummary& summary_;
  const std::function<void(const std::string&, std::string&, std::size_t&, const FilePosition&)>& emit_;
  const std::function<void()>& tick_;
  const std::atomic<bool>& stop_;
};

}  // namespace

ImportSummary run_import(const ImportOptions& o, const ProgressFn& progress) {
  const auto t0 = Clock::now();
  ImportSummary summary;
  const ExpandedInputs inputs = expand_inputs(o.inputs);
  const std::vector<ArchiveLock> locks = lock_archives(inputs.archive_dirs);
  summary.files = inputs.files.size();

  RowLayout layout;  // clickhouse/schema.sql unless the server says otherwise
  Endpoint endpoint = o.endpoint;
  if (!o.dry_run && !o.skip_test) {
    HttpClient probe(endpoint);
    summary.server_version = probe.execute("SELECT version()");
    while (!summary.server_version.empty() && summary.server_version.back() == '\n') summary.server_version.pop_back();
    layout = probe_table(probe, endpoint.database, o.table);
    // Servers with async inserts: ours must be synchronous so every error reaches us.
    const bool user_set = std::any_of(endpoint.settings.begin(), endpoint.settings.end(),
                                      [](const auto& s) { return s.first == "async_insert"; });
    if (!user_set && parse_server_version(summary.server_version).at_least(21, 11))
      endpoint.settings.emplace_back("async_insert", "0");
  }
  ImportOptions opts = o;
  opts.endpoint = endpoint;

  CheckpointMap initial;
  if (o.checkpoint && !o.dry_run) {
    initial = load_checkpoint(*o.checkpoint);
    if (o.restart)
      for (const auto& f : inputs.files) initial.erase(f.string());
  }
  AckTracker tracker(initial);
  CheckpointWriter writer(o.dry_run ? std::nullopt : o.checkpoint, std::chrono::milliseconds(1000));

  const std::string insert_sql = fmt::format("INSERT INTO {}.{} {} FORMAT RowBinary", sql_identifier(endpoint.database),
                                             sql_identifier(o.table), kInsertColumns);
  SendState state;
  BoundedQueue<Batch> queue(std::max(1u, opts.parallel) * 2);
  std::vector<std::unique_ptr<Sender>> senders;
  std::vector<std::jthread> threads;
  // Declared after `threads`, so on any exit it closes the queue before the threads are joined.
  struct QueueCloser {
    BoundedQueue<Batch>& q;
    ~QueueCloser() { q.close(); }
  } closer{queue};
  auto stop_senders = [&] {
    queue.close();
    threads.clear();  // joins
  };
  if (!o.dry_run) {
    for (unsigned i = 0; i < std::max(1u, opts.parallel); ++i) {
      senders.push_back(std::make_unique<Sender>(opts, insert_sql, queue, tracker, writer, state, i));
      threads.emplace_back([s = senders.back().get()] { s->run(); });
    }
  }

  std::optional<GzipMemberCompressor> dry_gz;
  if (o.dry_run && o.compression_level > 0) dry_gz.emplace(o.compression_level);
  auto last_progress = Clock::now();
  const std::function<void()> tick = [&] {
    if (!progress) return;
    const auto now = Clock::now();
    if (now - last_progress < std::chrono::milliseconds(500)) return;
    last_progress = now;
    ImportSummary snap = summary;
    snap.events_inserted = o.dry_run ? summary.events_inserted : state.inserted.load();
    snap.retries = state.retries;
    snap.elapsed_s = std::chrono::duration<double>(now - t0).count();
    progress(snap);
  };
  const std::function<void(const std::string&, std::string&, std::size_t&, const FilePosition&)> emit =
      [&](const std::string& file, std::string& rows, std::size_t& count, const FilePosition& end) {
        const std::uint64_t seq = tracker.add(file, end);
        summary.bytes_encoded += rows.size();
        if (count == 0 || o.dry_run) {
          if (o.dry_run && count > 0) {
            summary.bytes_sent += compress_body(dry_gz ? &*dry_gz : nullptr, rows).size();
            summary.events_inserted += count;
            ++summary.batches;
          }
          tracker.acknowledge(seq);
        } else if (!state.failed) {
          queue.push(Batch{seq, std::move(rows), count});
        }
        rows.clear();
        count = 0;
        tick();
      };

  FileReader reader(opts, layout, summary, emit, tick, state.failed);
  try {
    for (const auto& path : inputs.files) {
      if (state.failed) break;
      const std::string key = path.string();
      FilePosition start;
      if (auto it = initial.find(key); it != initial.end()) start = it->second;
      if (start.done && start.size == std::filesystem::file_size(path)) {
        ++summary.files_skipped;
        continue;
      }
      if (start.records > 0) ++summary.files_resumed;
      reader.read(path, start);
    }
  } catch (...) {
    stop_senders();
    writer.flush(tracker);
    throw;
  }
  stop_senders();
  writer.flush(tracker);
  if (state.failed) throw ClickHouseError(state.error);

  if (!o.dry_run) {
    summary.events_inserted = state.inserted;
    summary.bytes_sent = state.bytes_sent;
    summary.batches = state.batches;
  }
  summary.retries = state.retries;
  summary.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
  return summary;
}

}  // namespace pb::ch
