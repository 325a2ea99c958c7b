// A consistent copy of index.db for upload, taken with SQLite's online backup API: the live file (and
// its -wal) may be mid-transaction, a backup never is.
#pragma once

#include <filesystem>

namespace pb::s3 {

// Copies the database at `src` into a fresh file `dest` (replaced if present). Throws std::runtime_error.
void snapshot_sqlite(const std::filesystem::path& src, const std::filesystem::path& dest);

}  // namespace pb::s3
