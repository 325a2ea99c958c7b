// Import checkpoints: for each input file, the point up to which every event has been acknowledged by
// the server, so a rerun after a kill resumes there instead of starting over.
//
// A position is (member_offset, skip): start a DayFileReader at that gzip member and skip `skip`
// records. `records` (records before the position, from the file start) is the fallback when a file's
// records span members. The file is a small text file replaced atomically (temp + fsync + rename).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace pb::ch {

struct FilePosition {
  std::uint64_t member_offset = 0;
  std::uint64_t skip = 0;
  std::uint64_t records = 0;
  bool done = false;          // the whole file (of size `size`) is acknowledged
  std::uint64_t size = 0;     // the file's size when `done` was recorded

  bool operator==(const FilePosition&) const = default;
};

// Input path (absolute, as given after expansion) -> position.
using CheckpointMap = std::map<std::string, FilePosition>;

// Reads a checkpoint file; an absent file is an empty map. Throws std::runtime_error on a malformed one.
CheckpointMap load_checkpoint(const std::filesystem::path& path);
// Writes atomically: a kill at any moment leaves the old or the new content, never a mix.
void save_checkpoint(const std::filesystem::path& path, const CheckpointMap& map);

// Batches complete out of order (several in flight); a file's position may only advance to the end of
// the longest prefix of batches that are all acknowledged. Thread-safe.
class AckTracker {
 public:
  explicit AckTracker(CheckpointMap initial) : committed_(std::move(initial)) {}

  // Registers the next batch (sequence numbers are given out here, in reading order): once it and all
  // earlier batches are acknowledged, `file` is at `end`.
  std::uint64_t add(const std::string& file, const FilePosition& end);
  // Marks a batch acknowledged; returns true if some file's committed position advanced.
  bool acknowledge(std::uint64_t seq);
  CheckpointMap committed() const;
  // Batches added but not yet part of the committed prefix.
  std::size_t pending() const;

 private:
  struct Entry {
    std::string file;
    FilePosition end;
    bool acked = false;
  };
  mutable std::mutex mu_;
  std::uint64_t next_seq_ = 0;
  std::map<std::uint64_t, Entry> entries_;
  CheckpointMap committed_;
};

// Saves the tracker's committed positions at most every `interval` (and on flush()). The first save is
// due at once: "never saved" is its own state, not a time point (a steady clock may start near zero, so
// an epoch default would delay the first save until the machine had been up for `interval`).
class CheckpointWriter {
 public:
  CheckpointWriter(std::optional<std::filesystem::path> path, std::chrono::milliseconds interval)
      : path_(std::move(path)), interval_(interval) {}
  void maybe_save(const AckTracker& tracker);
  void flush(const AckTracker& tracker);

 private:
  std::mutex mu_;
  std::optional<std::filesystem::path> path_;
  std::chrono::milliseconds interval_;
  std::optional<std::chrono::steady_clock::time_point> last_;  // none until the first save
  CheckpointMap last_saved_;
};

}  // namespace pb::ch
