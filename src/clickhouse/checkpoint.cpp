#include "clickhouse/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "base/posix_file.hpp"

namespace pb::ch {

namespace {
constexpr std::string_view kHeader = "proton-beam-clickhouse-checkpoint v1";
}

CheckpointMap load_checkpoint(const std::filesystem::path& path) {
  CheckpointMap map;
  std::ifstream in(path, std::ios::binary);
  if (!in) return map;
  std::string line;
  if (!std::getline(in, line) || line != kHeader)
    throw std::runtime_error(fmt::format("{}: not a checkpoint file (bad header)", path.string()));
  std::size_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    // member_offset skip records done size <TAB> path (the path is last: it may hold spaces)
    const auto tab = line.find('\t');
    std::istringstream fields(line.substr(0, tab));
    FilePosition pos;
    int done = 0;
    if (tab == std::string::npos || !(fields >> pos.member_offset >> pos.skip >> pos.records >> done >> pos.size))
      throw std::runtime_error(fmt::format("{}:{}: malformed checkpoint line", path.string(), line_no));
    pos.done = done != 0;
    map[line.substr(tab + 1)] = pos;
  }
  return map;
}

void save_checkpoint(const std::filesystem::path& path, const CheckpointMap& map) {
  std::string text(kHeader);
  text += '\n';
  for (const auto& [file, pos] : map)
    text += fmt::format("{} {} {} {} {}\t{}\n", pos.member_offset, pos.skip, pos.records, pos.done ? 1 : 0,
                        pos.size, file);
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    UniqueFd fd = open_or_throw(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
    write_all(fd.get(), text, tmp);
    sync_data(fd.get(), tmp);
  }
  std::filesystem::rename(tmp, path);
  // Make the rename itself durable.
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd) ::fsync(dfd.get());
}

std::uint64_t AckTracker::add(const std::string& file, const FilePosition& end) {
  std::lock_guard lock(mu_);
  const std::uint64_t seq = next_seq_++;
  entries_.emplace(seq, Entry{file, end, false});
  return seq;
}

bool AckTracker::acknowledge(std::uint64_t seq) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(seq);
  if (it == entries_.end()) return false;
  it->second.acked = true;
  bool advanced = false;
  while (!entries_.empty() && entries_.begin()->second.acked) {
    Entry& e = entries_.begin()->second;
    committed_[e.file] = e.end;
    entries_.erase(entries_.begin());
    advanced = true;
  }
  return advanced;
}

CheckpointMap AckTracker::committed() const {
  std::lock_guard lock(mu_);
  return committed_;
}

std::size_t AckTracker::pending() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void CheckpointWriter::maybe_save(const AckTracker& tracker) {
  if (!path_) return;
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (last_ && now - *last_ < interval_) return;
  last_ = now;
  CheckpointMap map = tracker.committed();
  if (map == last_saved_) return;
  save_checkpoint(*path_, map);
  last_saved_ = std::move(map);
}

void CheckpointWriter::flush(const AckTracker& tracker) {
  if (!path_) return;
  std::lock_guard lock(mu_);
  CheckpointMap map = tracker.committed();
  save_checkpoint(*path_, map);
  last_saved_ = std::move(map);
  last_ = std::chrono::steady_clock::now();
}

}  // namespace pb::ch
