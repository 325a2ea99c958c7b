// JSONL -> archive: the convert pipeline shared by every command that ingests JSON.
//
// One reader thread splits the inputs into line batches; N workers parse, validate and encode them;
// the calling thread is the single writer that applies results in input order. Because every decision
// that depends on order (which copy of a duplicate is kept, where members are cut) is taken by the
// writer in input order, the archive is byte-identical for any number of workers.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "archive/writer.hpp"
#include "nostr/reject.hpp"
#include "nostr/validate.hpp"

namespace pb {

// What the inputs hold: JSONL (convert) or day files of other archives (merge). Both go through the
// same workers (dedup before verify) and the same single writer.
enum class InputFormat { jsonl, archive_records };

struct ConvertOptions {
  InputFormat format = InputFormat::jsonl;
  std::vector<std::string> inputs;  // paths, "-" for stdin (jsonl only)
  std::filesystem::path output_dir = "pb_data";
  std::size_t batch_size = 1000;    // lines per work unit
  unsigned threads = 0;             // workers; 0 = hardware concurrency
  ValidationOptions validation;
  bool filter_invalid_kinds = true;
  ArchiveWriterOptions writer;
};

// CPU seconds per pipeline stage, summed over that stage's threads. writer_cpu_s is the single writer's
// own work (ordering, its per-event id lookup, staging, file appends, journal, fsync calls) without its
// index inserts/commits and compression, which are index_cpu_s (on the writer's thread) and
// compress_cpu_s (gzip members, on the compression threads). process_cpu_s is the whole process (user + sys) over the run.
struct StageCpu {
  double reader_cpu_s = 0;
  double workers_cpu_s = 0;
  double writer_cpu_s = 0;
  double index_cpu_s = 0;
  double compress_cpu_s = 0;
  double process_cpu_s = 0;
};

struct ConvertStats {
  std::uint64_t total_lines = 0;
  std::uint64_t valid = 0;       // events stored by this run
  std::uint64_t invalid = 0;
  std::uint64_t skipped = 0;     // blank lines
  std::uint64_t duplicates = 0;
  std::uint64_t filtered = 0;    // dropped by the kind pre-filter
  std::array<std::uint64_t, kRejectCategoryCount> errors{};
  std::uint64_t input_bytes = 0;      // JSONL bytes read (after decompression)
  std::uint64_t raw_input_bytes = 0;  // bytes read from files/pipes (compressed size when compressed)
  std::uint64_t output_bytes = 0;     // bytes appended to day files
  double elapsed_s = 0;
  StageCpu stages;
  std::vector<std::string> input_errors;  // truncated or corrupt inputs (their valid lines were kept)
};

struct RejectedLine {
  const std::string& input;
  std::uint64_t line;          // 1-based line number within the input
  RejectCategory category;
  std::string_view id_prefix;  // first 16 hex chars of the claimed id when it parsed, else empty
  std::string_view message;
};

struct ProgressSnapshot {
  const ConvertStats& stats;
  std::uint64_t raw_bytes_total;  // 0 when unknown (stdin)
  std::chrono::steady_clock::duration elapsed;
};

class ConvertObserver {
 public:
  virtual ~ConvertObserver() = default;
  virtual void on_recovery(const std::string& /*action*/) {}
  virtual void on_reject(const RejectedLine& /*r*/) {}
  virtual void on_input_error(const std::string& /*message*/) {}
  virtual void on_progress(const ProgressSnapshot& /*p*/) {}
};

// Runs the whole conversion. Throws InputError when an input cannot be opened (before anything is
// written) and std::runtime_error when the archive cannot be written. Damage inside an input is not
// fatal: it is reported through the observer and listed in stats.input_errors.
ConvertStats run_convert(const ConvertOptions& options, ConvertObserver& observer);

}  // namespace pb
