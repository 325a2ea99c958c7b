#include "ingest/pipeline.hpp"

#include <sys/resource.h>
#include <time.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <functional>
#include <map>
#include <semaphore>
#include <thread>

#include <fmt/format.h>

#include "base/bounded_queue.hpp"
#include "archive/day_file_reader.hpp"
#include "nostr/hex.hpp"
#include "ingest/input_source.hpp"
#include "nostr/json_parse.hpp"
#include "ingest/kind_prefilter.hpp"
#include "archive/proto_codec.hpp"
#include "ingest/seen_ids.hpp"

namespace pb {
namespace {

constexpr std::size_t kReadChunk = 1 << 20;
constexpr std::size_t kBatchBytes = 4 << 20;  // a batch also ends at this many bytes of lines

struct LineBatch {
  std::uint64_t seq = 0;
  std::size_t input = 0;             // index into the inputs
  std::uint64_t first_line = 0;      // 1-based line number of the first line in its input
  std::uint64_t first_ordinal = 0;   // global line number across all inputs (for dedup order)
  std::string data;                  // the lines, back to back, without their terminators
  std::vector<std::pair<std::size_t, std::size_t>> lines;  // (offset, length) into data
  std::optional<std::string> input_error;  // damage found right after these lines
  std::uint64_t raw_bytes_read = 0;  // progress of the underlying input after this batch
  std::uint64_t bytes = 0;           // JSONL bytes this batch covers (terminators included)
};

enum class Verdict : std::uint8_t { store, duplicate, skipped, filtered, rejected };

struct LineResult {
  Verdict verdict;
  RejectCategory category{};
  std::string message;      // rejections only
  std::string id_prefix;    // rejections only, when the id parsed
  Id32 id{}, pubkey{};
  std::int64_t created_at = 0;
  std::int32_t kind = 0;
  std::size_t record_offset = 0, record_size = 0;  // into ProcessedBatch::records
  std::vector<IndexTag> tags;  // index_tags() of a stored event, computed here rather than on the writer
};

struct ProcessedBatch {
  LineBatch batch;
  std::vector<LineResult> results;
  std::string records;
};

std::int64_t thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool is_blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

// Per-worker state: everything a worker needs, owned by that worker alone.
// A worker's read-only index connection does point lookups (dedup); with a capped writer cache it gets an
// eighth of that (at least 2 MiB), so the whole run stays within the user's memory budget.
std::size_t reader_cache_kib(const ConvertOptions& opt) {
  const std::size_t writer = opt.writer.index_cache_kib;
  return writer == 0 ? 0 : std::max<std::size_t>(2048, writer / 8);
}

class Worker {
 public:
  Worker(const ConvertOptions& opt, SeenIds& seen, const std::filesystem::path& index_path)
      : opt_(opt), seen_(seen), validator_(opt.validation),
        index_(ArchiveIndex::open(index_path, ArchiveIndex::Mode::read_only, reader_cache_kib(opt))) {}

  ProcessedBatch process(LineBatch batch) {
    ProcessedBatch out;
    out.results.resize(batch.lines.size());
    for (std::size_t i = 0; i < batch.lines.size(); ++i) {
      const auto [off, len] = batch.lines[i];
      process_line(std::string_view(batch.data).substr(off, len), batch.first_ordinal + i, out.results[i], out.records);
    }
    out.batch = std::move(batch);
    return out;
  }

 private:
  void reject(LineResult& r, Rejection rej, bool id_parsed) {
    r.verdict = Verdict::rejected;
    r.category = rej.category;
    r.message = std::move(rej.message);
    if (id_parsed) r.id_prefix = to_hex(std::span(ev_.id).first(8));
  }

  void process_line(std::string_view line, std::uint64_t ordinal, LineResult& r, std::string& records) {
    if (opt_.format == InputFormat::archive_records) {
      if (auto err = decode_proto_event(line, ev_)) return reject(r, {RejectCategory::invalid_field, "undecodable record: " + *err}, false);
      if (ev_.kind < 0 || ev_.kind > 65535)
        return reject(r, {RejectCategory::invalid_kind, fmt::format("kind {} is outside 0..65535", ev_.kind)}, true);
      if (ev_.created_at < 0) return reject(r, {RejectCategory::invalid_field, "created_at must not be negative"}, true);
    } else {
      if (is_blank(line)) {
        r.verdict = Verdict::skipped;
        return;
      }
      if (opt_.filter_invalid_kinds && kind_above_limit(line)) {
        r.verdict = Verdict::filtered;
        return;
      }
      if (auto rej = parser_.parse(line, ev_)) return reject(r, std::move(*rej), parser_.id_parsed());
    }
    if (auto rej = validator_.check_id(ev_)) return reject(r, std::move(*rej), true);
    // A duplicate costs a lookup, not a Schnorr verify: an earlier valid copy in this run, or the index.
    if (auto earlier = seen_.find(ev_.id); (earlier && *earlier < ordinal) || index_.contains(ev_.id)) {
      r.verdict = Verdict::duplicate;
      return;
    }
    if (auto rej = validator_.check_signature(ev_)) return reject(r, std::move(*rej), true);
    const std::size_t start = records.size();
    append_record(records, ev_);
    if (records.size() - start > kMaxRecordBytes + 10) {
      records.resize(start);
      return reject(r, {RejectCategory::invalid_field, "event too large for an archive record"}, true);
    }
    seen_.note(ev_.id, ordinal);
    r.verdict = Verdict::store;
    r.id = ev_.id;
    r.pubkey = ev_.pubkey;
    r.created_at = ev_.created_at;
    r.kind = ev_.kind;
    r.record_offset = start;
    r.record_size = records.size() - start;
    r.tags = index_tags(ev_, hasher_);
  }

  const ConvertOptions& opt_;
  SeenIds& seen_;
  EventParser parser_;
  EventValidator validator_;
  ArchiveIndex index_;
  Sha256Hasher hasher_;
  Event ev_;
};

// Thrown inside the reader when the pipeline is shutting down early (another thread failed).
struct Stopped {};

// Splits the inputs into batches of items (JSON lines, or archive records), in order. Runs on its own
// thread.
class Reader {
 public:
  Reader(const ConvertOptions& opt, std::vector<std::unique_ptr<InputSource>>& inputs, BoundedQueue<LineBatch>& out,
         std::counting_semaphore<>& window)
      : opt_(opt), inputs_(inputs), batch_lines_(std::max<std::size_t>(1, opt.batch_size)), out_(out), window_(window) {}

  void run() {
    for (std::size_t in = 0; in < opt_.inputs.size(); ++in) {
      start_batch(in, 1);
      if (opt_.format == InputFormat::jsonl) read_lines(in, *inputs_[in]);
      else read_records(in, opt_.inputs[in]);
      flush();
    }
    out_.close();
  }

 private:
  void read_lines(std::size_t in, InputSource& src) {
    std::vector<char> chunk(kReadChunk);
    std::string partial;  // an unfinished line carried across chunks
    std::uint64_t line_no = 1;
    std::optional<std::string> error;
    for (;;) {
      std::size_t n = 0;
      try {
        n = src.read({chunk.data(), chunk.size()});
      } catch (const InputError& e) {
        error = e.what();
      }
      if (n == 0) break;
      std::string_view data(chunk.data(), n);
      while (!data.empty()) {
        const auto nl = data.find('\n');
        if (nl == std::string_view::npos) {
          partial.append(data);
          break;
        }
        if (partial.empty()) {
          add_item(data.substr(0, nl), in, line_no, src.raw_bytes_read(), true);
        } else {
          partial.append(data.substr(0, nl));
          add_item(partial, in, line_no, src.raw_bytes_read(), true);
          partial.clear();
        }
        ++line_no;
        data.remove_prefix(nl + 1);
      }
      if (error) break;
    }
    // The last line may lack its newline; a line cut by damage is still offered (and rejected).
    if (!partial.empty()) add_item(partial, in, line_no, src.raw_bytes_read(), false);
    cur_.input_error = std::move(error);
    cur_.raw_bytes_read = src.raw_bytes_read();
  }

  // Day-file records, numbered from 1 like lines. Damage ends the file with an input error; every
  // complete record before it has been offered.
  void read_records(std::size_t in, const std::string& path) {
    DayFileReader reader(path);
    std::uint64_t record_no = 1;
    while (auto rec = reader.next()) add_item(*rec, in, record_no++, reader.record_member_offset(), false);
    if (const auto& d = reader.damage())
      cur_.input_error = fmt::format("{}: damaged at byte {}: {}", path, d->offset, d->message);
    cur_.raw_bytes_read = std::filesystem::file_size(path);
  }

  void start_batch(std::size_t input, std::uint64_t first_line) {
    cur_ = LineBatch{};
    cur_.input = input;
    cur_.first_line = first_line;
    cur_.first_ordinal = ordinal_;
  }

  void add_item(std::string_view item, std::size_t input, std::uint64_t line_no, std::uint64_t progress, bool newline) {
    if (cur_.lines.empty()) cur_.first_line = line_no;
    cur_.bytes += item.size() + (newline ? 1 : 0);
    if (opt_.format == InputFormat::jsonl && !item.empty() && item.back() == '\r') item.remove_suffix(1);  // CRLF
    cur_.lines.emplace_back(cur_.data.size(), item.size());
    cur_.data.append(item);
    ++ordinal_;
    if (cur_.lines.size() >= batch_lines_ || cur_.data.size() >= kBatchBytes) {
      cur_.raw_bytes_read = progress;
      flush();
      start_batch(input, line_no + 1);
    }
  }

  void flush() {
    if (cur_.lines.empty() && !cur_.input_error && cur_.raw_bytes_read == 0) return;
    window_.acquire();  // bounds the batches in flight, whatever order workers finish in
    cur_.seq = seq_++;
    if (!out_.push(std::move(cur_))) throw Stopped{};
    cur_ = LineBatch{};
  }

  const ConvertOptions& opt_;
  std::vector<std::unique_ptr<InputSource>>& inputs_;
  std::size_t batch_lines_;
  BoundedQueue<LineBatch>& out_;
  std::counting_semaphore<>& window_;
  LineBatch cur_;
  std::uint64_t seq_ = 0;
  std::uint64_t ordinal_ = 0;
};

// Joins threads and closes queues however the writer leaves (normally or by exception).
struct ThreadGroup {
  std::vector<std::jthread> threads;
  std::function<void()> on_exit;
  ~ThreadGroup() {
    if (on_exit) on_exit();
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
};

}  // namespace

namespace {
double process_cpu_s() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}
}  // namespace

ConvertStats run_convert(const ConvertOptions& opt, ConvertObserver& observer) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::int64_t main_cpu0 = thread_cpu_ns();
  const double process_cpu0 = process_cpu_s();
  // Open every input first: a missing file must fail before anything is written.
  std::vector<std::unique_ptr<InputSource>> inputs;
  std::vector<std::string> names;
  std::vector<std::uint64_t> raw_sizes;
  bool sizes_known = true;
  for (const auto& path : opt.inputs) {
    if (opt.format == InputFormat::jsonl) {
      inputs.push_back(open_input(path));
      names.push_back(inputs.back()->name());
      raw_sizes.push_back(inputs.back()->raw_size().value_or(0));
      sizes_known = sizes_known && inputs.back()->raw_size().has_value();
    } else {
      std::error_code ec;
      const auto size = std::filesystem::file_size(path, ec);
      if (ec) throw InputError(fmt::format("{}: cannot open: {}", path, ec.message()));
      names.push_back(path);
      raw_sizes.push_back(size);
    }
  }
  std::uint64_t raw_total = 0;
  for (auto s : raw_sizes) raw_total += s;

  ArchiveWriterOptions wopt = opt.writer;
  // Benchmarking knob: PB_COMPRESSION_THREADS=0 compresses on the writer's thread as before (the day
  // files are the same either way).
  if (const char* ct = std::getenv("PB_COMPRESSION_THREADS"); ct && *ct) wopt.compression_threads = std::atoi(ct);
  ArchiveWriter writer(opt.output_dir, wopt);
  for (const auto& action : writer.recovery().actions) observer.on_recovery(action);
  // Workers read the committed index through their own connections; make sure it has a schema.
  writer.commit();

  const unsigned n_workers = opt.threads ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
  const std::size_t window = 2 * n_workers + 4;
  BoundedQueue<LineBatch> work(window);
  BoundedQueue<ProcessedBatch> done(window);
  std::counting_semaphore<> tokens(static_cast<std::ptrdiff_t>(window));
  SeenIds seen;
  std::exception_ptr worker_error;
  std::mutex error_mu;

  ConvertStats stats;
  std::atomic<std::int64_t> reader_ns{0}, workers_ns{0};  // summed by each thread as it ends
  {
    ThreadGroup group;
    group.on_exit = [&] {
      work.close();
      done.close();
      tokens.release(static_cast<std::ptrdiff_t>(window));  // unblock a reader waiting for a token
    };
    Reader reader(opt, inputs, work, tokens);
    group.threads.emplace_back([&] {
      struct Account {  // the thread's CPU time, however it leaves
        std::atomic<std::int64_t>& into;
        ~Account() { into += thread_cpu_ns(); }
      } account{reader_ns};
      try {
        reader.run();
      } catch (const Stopped&) {
        // someone else failed first; their error is reported
      } catch (...) {
        std::lock_guard lock(error_mu);
        if (!worker_error) worker_error = std::current_exception();
        work.close();
      }
    });
    std::atomic<unsigned> workers_left = n_workers;
    for (unsigned w = 0; w < n_workers; ++w) {
      group.threads.emplace_back([&] {
        struct Account {
          std::atomic<std::int64_t>& into;
          ~Account() { into += thread_cpu_ns(); }
        } account{workers_ns};
        try {
          Worker worker(opt, seen, writer.index_path());
          while (auto batch = work.pop()) {
            if (!done.push(worker.process(std::move(*batch)))) break;
          }
        } catch (...) {
          std::lock_guard lock(error_mu);
          if (!worker_error) worker_error = std::current_exception();
          work.close();
        }
        if (--workers_left == 0) done.close();
      });
    }

    // The single writer: apply batches strictly in input order.
    std::map<std::uint64_t, ProcessedBatch> early;
    std::uint64_t next = 0;
    std::vector<Id32> retire;  // ids to drop from `seen` once committed
    auto last_progress = std::chrono::steady_clock::now();
    auto apply = [&](ProcessedBatch& pbatch) {
      const LineBatch& b = pbatch.batch;
      const std::string& input_name = names[b.input];
      for (std::size_t i = 0; i < pbatch.results.size(); ++i) {
        LineResult& r = pbatch.results[i];
        ++stats.total_lines;
        switch (r.verdict) {
          case Verdict::skipped: ++stats.skipped; break;
          case Verdict::filtered: ++stats.filtered; break;
          case Verdict::duplicate: ++stats.duplicates; break;
          case Verdict::rejected:
            ++stats.invalid;
            ++stats.errors[static_cast<std::size_t>(r.category)];
            observer.on_reject({input_name, b.first_line + i, r.category, r.id_prefix, r.message});
            break;
          case Verdict::store: {
            const StagedEvent ev{r.id, r.pubkey, r.created_at, r.kind,
                                 std::string_view(pbatch.records).substr(r.record_offset, r.record_size), r.tags};
            if (writer.add(ev)) ++stats.valid;
            else ++stats.duplicates;
            retire.push_back(r.id);
            // Checked per event, so commit points (and member boundaries) depend only on the events,
            // not on batch sizes or thread timing.
            if (writer.should_commit()) {
              writer.commit();
              for (const Id32& id : retire) seen.erase(id);
              retire.clear();
            }
            break;
          }
        }
      }
      stats.input_bytes += b.bytes;
      if (b.input_error) {
        stats.input_errors.push_back(*b.input_error);
        observer.on_input_error(*b.input_error);
      }
      tokens.release();
      std::uint64_t raw = 0;
      for (std::size_t k = 0; k < b.input; ++k) raw += raw_sizes[k];
      stats.raw_input_bytes = raw + b.raw_bytes_read;
      const auto now = std::chrono::steady_clock::now();
      if (now - last_progress >= std::chrono::milliseconds(250)) {
        last_progress = now;
        stats.output_bytes = writer.bytes_written();
        observer.on_progress({stats, sizes_known ? raw_total : 0, now - t0});
      }
    };
    while (auto pbatch = done.pop()) {
      early.emplace(pbatch->batch.seq, std::move(*pbatch));
      for (auto it = early.find(next); it != early.end(); it = early.find(next)) {
        apply(it->second);
        early.erase(it);
        ++next;
      }
    }
    if (worker_error) std::rethrow_exception(worker_error);
    writer.commit();
  }
  if (worker_error) std::rethrow_exception(worker_error);
  stats.raw_input_bytes = 0;
  if (opt.format == InputFormat::jsonl) {
    for (auto& in : inputs) stats.raw_input_bytes += in->raw_bytes_read();
  } else {
    stats.raw_input_bytes = raw_total;
  }
  stats.output_bytes = writer.bytes_written();
  stats.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const WriterCpu wcpu = writer.cpu();
  const double main_s = static_cast<double>(thread_cpu_ns() - main_cpu0) / 1e9;
  stats.stages.reader_cpu_s = static_cast<double>(reader_ns.load()) / 1e9;
  stats.stages.workers_cpu_s = static_cast<double>(workers_ns.load()) / 1e9;
  stats.stages.index_cpu_s = std::min(wcpu.index_s, main_s);
  stats.stages.writer_cpu_s = std::max(0.0, main_s - stats.stages.index_cpu_s - wcpu.compress_on_writer_s);
  stats.stages.compress_cpu_s = wcpu.compress_s;
  stats.stages.process_cpu_s = process_cpu_s() - process_cpu0;
  return stats;
}

}  // namespace pb
