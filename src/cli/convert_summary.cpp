#include "cli/convert_summary.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "cli/progress.hpp"
#include "nostr/canonical.hpp"

namespace pb::cli {

double events_per_second(const ConvertStats& s) {
  return s.elapsed_s > 0 ? static_cast<double>(s.total_lines - s.skipped) / s.elapsed_s : 0.0;
}

namespace {
// CPU microseconds per non-blank line.
double us_per_event(const ConvertStats& s, double cpu_s) {
  const std::uint64_t n = s.total_lines - s.skipped;
  return n ? cpu_s * 1e6 / static_cast<double>(n) : 0.0;
}
}  // namespace

std::string stage_summary(const ConvertStats& s) {
  const auto& c = s.stages;
  const double serial = us_per_event(s, c.writer_cpu_s + c.index_cpu_s);
  std::string out = fmt::format(
      "  CPU per event:     reader {:.1f} us, workers {:.1f} us, writer {:.1f} us, index {:.1f} us, compression {:.1f} us"
      " (process {:.1f} us)\n",
      us_per_event(s, c.reader_cpu_s), us_per_event(s, c.workers_cpu_s), us_per_event(s, c.writer_cpu_s),
      us_per_event(s, c.index_cpu_s), us_per_event(s, c.compress_cpu_s), us_per_event(s, c.process_cpu_s));
  if (serial > 0)
    out += fmt::format("  Serial (one thread): writer + index {:.1f} us per event, a ceiling of {:.0f} events/s on any number of cores\n",
                       serial, 1e6 / serial);
  return out;
}

std::string human_summary(const ConvertStats& s, const std::string& command) {
  const std::uint64_t considered = s.total_lines - s.skipped;
  const double success = considered ? 100.0 * static_cast<double>(s.valid + s.duplicates) / static_cast<double>(considered) : 100.0;
  std::string out = fmt::format(
      "{} finished in {}\n"
      "  Lines read:        {}\n"
      "  Stored (new):      {}\n"
      "  Duplicates:        {}\n"
      "  Invalid:           {}\n"
      "  Filtered (kind):   {}\n"
      "  Skipped (blank):   {}\n"
      "  Success rate:      {:.2f}% (stored + duplicates among non-blank lines)\n"
      "  Throughput:        {:.0f} events/s, {}/s\n"
      "  Input:             {} ({} read)\n"
      "  Output:            {} appended to day files\n",
      command == "convert" ? "Conversion" : command == "merge" ? "Merge" : command, human_duration(s.elapsed_s), s.total_lines, s.valid, s.duplicates, s.invalid, s.filtered, s.skipped, success,
      events_per_second(s), human_bytes(s.elapsed_s > 0 ? static_cast<double>(s.input_bytes) / s.elapsed_s : 0),
      human_bytes(static_cast<double>(s.input_bytes)), human_bytes(static_cast<double>(s.raw_input_bytes)),
      human_bytes(static_cast<double>(s.output_bytes)));
  out += stage_summary(s);
  std::vector<std::pair<std::uint64_t, RejectCategory>> errs;
  for (std::size_t c = 0; c < kRejectCategoryCount; ++c)
    if (s.errors[c]) errs.emplace_back(s.errors[c], static_cast<RejectCategory>(c));
  std::sort(errs.begin(), errs.end(), [](auto& a, auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  if (!errs.empty()) {
    out += "Errors by category:\n";
    for (auto& [n, c] : errs) out += fmt::format("  {:<20} {}\n", category_name(c), n);
  }
  for (const auto& e : s.input_errors) out += fmt::format("Input damaged: {}\n", e);
  return out;
}

std::string json_summary(const ConvertStats& s) {
  std::string errors;
  for (std::size_t c = 0; c < kRejectCategoryCount; ++c) {
    if (!errors.empty()) errors += ',';
    errors += fmt::format("\"{}\":{}", category_name(static_cast<RejectCategory>(c)), s.errors[c]);
  }
  std::string input_errors;
  for (const auto& e : s.input_errors) {
    if (!input_errors.empty()) input_errors += ',';
    append_json_string(input_errors, e);
  }
  const auto& c = s.stages;
  const std::string stages = fmt::format(
      "\"stages\":{{\"reader_cpu_s\":{:.3f},\"workers_cpu_s\":{:.3f},\"writer_cpu_s\":{:.3f},\"index_cpu_s\":{:.3f},"
      "\"compress_cpu_s\":{:.3f},\"process_cpu_s\":{:.3f}}},"
      "\"stages_us_per_event\":{{\"reader\":{:.2f},\"workers\":{:.2f},\"writer\":{:.2f},\"index\":{:.2f},"
      "\"compress\":{:.2f},\"serial\":{:.2f}}}",
      c.reader_cpu_s, c.workers_cpu_s, c.writer_cpu_s, c.index_cpu_s, c.compress_cpu_s, c.process_cpu_s,
      us_per_event(s, c.reader_cpu_s), us_per_event(s, c.workers_cpu_s), us_per_event(s, c.writer_cpu_s),
      us_per_event(s, c.index_cpu_s), us_per_event(s, c.compress_cpu_s), us_per_event(s, c.writer_cpu_s + c.index_cpu_s));
  return fmt::format(
      "{{\"total_lines\":{},\"valid\":{},\"invalid\":{},\"skipped\":{},\"duplicates\":{},\"filtered\":{},"
      "\"errors\":{{{}}},\"elapsed_s\":{:.3f},\"events_per_s\":{:.1f},\"input_bytes\":{},\"output_bytes\":{},"
      "\"raw_input_bytes\":{},\"input_errors\":[{}],{}}}\n",
      s.total_lines, s.valid, s.invalid, s.skipped, s.duplicates, s.filtered, errors, s.elapsed_s, events_per_second(s),
      s.input_bytes, s.output_bytes, s.raw_input_bytes, input_errors, stages);
}

}  // namespace pb::cli
