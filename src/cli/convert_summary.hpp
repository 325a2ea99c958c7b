// The end-of-run reports of convert: a human summary and the machine-readable JSON one.
#pragma once

#include <string>

#include "ingest/pipeline.hpp"

namespace pb::cli {

// Seed-style summary: totals, success rate, error breakdown sorted by count.
std::string human_summary(const ConvertStats& s, const std::string& command = "convert");

// One JSON object: total_lines, valid, invalid, skipped, duplicates, filtered, errors{category: n},
// elapsed_s, events_per_s, input_bytes, output_bytes (+ raw_input_bytes, input_errors[]), stages{reader_cpu_s,
// workers_cpu_s, writer_cpu_s, index_cpu_s, compress_cpu_s, process_cpu_s} and stages_us_per_event{reader,
// workers, writer, index, compress, serial}.
std::string json_summary(const ConvertStats& s);

// The per-stage CPU lines of the human summary (CPU microseconds per non-blank line, and the serial
// ceiling the single writer sets).
std::string stage_summary(const ConvertStats& s);

// Lines per second over non-blank lines (what was actually processed).
double events_per_second(const ConvertStats& s);

}  // namespace pb::cli
