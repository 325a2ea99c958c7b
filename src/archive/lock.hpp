// The archive's writer lock: an flock on <dir>/.proton-beam.lock. One process at a time may change an
// archive (ArchiveWriter, verify --repair) and holds it exclusively; verify without --repair holds it
// shared, so no writer starts while it reads (and it refuses to start while one is writing).
#pragma once

#include <filesystem>

#include "base/posix_file.hpp"

namespace pb {

inline constexpr const char* kLockFileName = ".proton-beam.lock";

class ArchiveLock {
 public:
  enum class Kind { exclusive, shared };

  // Takes the lock without waiting. Throws std::runtime_error naming the folder when another process
  // holds it in a conflicting mode, or when the lock file cannot be opened. `dir` must exist.
  // A shared lock on a read-only archive whose lock file is missing (nobody can write there either)
  // is held on nothing.
  static ArchiveLock acquire(const std::filesystem::path& dir, Kind kind);

  ArchiveLock() = default;

 private:
  explicit ArchiveLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // the lock is released when the descriptor is closed
};

}  // namespace pb
