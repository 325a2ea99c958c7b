#include "clickhouse/summary_json.hpp"

#include <fmt/format.h>

#include "nostr/canonical.hpp"

namespace pb::ch {

namespace {
std::string quoted(const std::string& s) {
  std::string out;
  append_json_string(out, s);
  return out;
}
}  // namespace

std::string summary_json(const ImportSummary& s, const std::string& status, const std::string& error) {
  std::string rejected = "{";
  for (const auto& [reason, count] : s.rejected) {
    if (rejected.size() > 1) rejected += ',';
    rejected += fmt::format("{}:{}", quoted(reason), count);
  }
  rejected += '}';
  std::string damaged = "[";
  for (const auto& d : s.damaged) {
    if (damaged.size() > 1) damaged += ',';
    damaged += quoted(d);
  }
  damaged += ']';
  const double rate = s.elapsed_s > 0 ? static_cast<double>(s.events_inserted) / s.elapsed_s : 0;
  return fmt::format(
      "{{\"status\":{},\"error\":{},\"server_version\":{},\"files\":{},\"files_skipped\":{},\"files_resumed\":{},"
      "\"records_read\":{},\"events_inserted\":{},\"rejected_total\":{},\"rejected\":{},\"batches\":{},"
      "\"retries\":{},\"bytes_encoded\":{},\"bytes_sent\":{},\"damaged\":{},\"elapsed_s\":{:.3f},"
      "\"events_per_s\":{:.0f}}}\n",
      quoted(status), quoted(error), quoted(s.server_version), s.files, s.files_skipped, s.files_resumed,
      s.records_read, s.events_inserted, s.rejected_total(), rejected, s.batches, s.retries, s.bytes_encoded,
      s.bytes_sent, damaged, s.elapsed_s, rate);
}

}  // namespace pb::ch
