// Push of an archive whose writer keeps running (proton-beam-daemon --s3-output): what the index has
// committed, without the archive lock the writer holds. The index goes up as a backup-API snapshot, and
// each day file that snapshot lists goes up to the committed length the snapshot records for it — the
// bytes its rows point into — never the tail the writer is appending for its next commit. The log
// (proton-beam.log) is not pushed: it is the running writer's own log, changing all the time.
#pragma once

#include <cstdint>
#include <filesystem>

#include "s3/archive_sync.hpp"

namespace pb::s3 {

struct CommittedPush {
  SyncSummary sync;
  std::uint64_t events = 0;     // events in the pushed index snapshot (its files table)
  std::size_t day_files = 0;    // day files the snapshot lists
};

// Snapshots <dir>/index.db, then uploads the listed day files' committed prefixes and the snapshot (as
// index.db), in that order; the index only when every day file went up, so the bucket's index never
// points past the bucket's day files (it is then counted as failed). The caller
// guarantees that no committed byte of a day file changes until it returns: a writer only appends past
// the committed length, and the one rewrite of committed bytes, compaction (it replaces the file), must
// not run meanwhile. Failures as push_archive's.
CommittedPush push_committed(const std::filesystem::path& dir, const S3Location& to, const AwsConfig& cfg,
                             const SyncOptions& opt, SyncObserver& obs);

}  // namespace pb::s3
