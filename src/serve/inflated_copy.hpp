// An uncompressed copy of the archive's day files, kept by serve in a folder of the operator's choosing
// (`serve --inflated-copy DIR`, never inside the archive): a member-cache miss then takes the member's
// records (~64 KiB) from the copy instead of inflating them, which was half of serve's CPU on the
// benchmark's mix. The copy costs about twice the day files' size on disk; its files are mapped, so the
// pages read stay in the OS page cache, not in serve's heap. Do not truncate or rewrite them while serve
// runs (deleting them is harmless: the mapping keeps them).
//
// The copy is only ever a faster way to the same bytes: each read checks the copied records against the
// gzip trailer (CRC-32 and length) that the member at that offset of the day file has now, so a day file
// swapped in by compaction or repair, or truncated and rewritten after a crash, is never served from a
// stale copy. (Device, inode and size in a copy's header only tell refresh() which files to copy again.) Anything the copy lacks
// (members appended since, a file not yet copied) or cannot prove is inflated from the day file as before.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "archive/lock.hpp"

namespace pb::serve {

struct InflatedCopyStats {
  std::uint64_t reads = 0;      // members served from the copy
  std::uint64_t fallbacks = 0;  // asked for, but not in the copy or no longer matching the day file
  std::uint64_t files = 0, bytes = 0;  // day files copied and the copy's size
  std::uint64_t refreshes = 0;         // passes over the archive completed (the first copies it all)
  std::uint64_t members_copied = 0;    // members inflated into the copy (a grown day file: only its new ones)
};

class InflatedCopy {
 public:
  // Creates `copy_dir` if needed and locks it (one serve per copy folder); reads the copies already there
  // (from an earlier run) lazily. Throws std::runtime_error when `copy_dir` is the archive or inside it,
  // or is locked by another process.
  InflatedCopy(std::filesystem::path archive_dir, std::filesystem::path copy_dir);
  ~InflatedCopy();
  // Whether `copy_dir` is `archive_dir` or inside it (refused: the copy must not be part of the archive).
  static bool inside_archive(const std::filesystem::path& archive_dir, const std::filesystem::path& copy_dir);
  InflatedCopy(const InflatedCopy&) = delete;
  InflatedCopy& operator=(const InflatedCopy&) = delete;

  // A member's records in the copy's mapping, which `owner` keeps mapped (after a refresh replaced the file too).
  struct Records {
    std::shared_ptr<const void> owner;
    std::string_view bytes;
  };
  // The records of the member at `offset` of day file `file_name`, when the copy holds that member and
  // the day file still does; nothing otherwise (the caller inflates the member).
  std::optional<Records> read(const std::string& file_name, std::uint64_t offset);
  // Copies every day file whose copy is missing or stale (another file, or grown since: then only the
  // members it gained, appended to the copy in place), and removes copies of day files that are gone;
  // returns how many it copied or extended. Returns early once `stop` is requested.
  // Throws std::runtime_error when the copy folder cannot be written.
  std::size_t refresh(std::stop_token stop = {});
  // Called by refresh() with a day file's name once its earlier copy was replaced or removed, so that
  // holders of views into the old copy let it go (its space is freed when the last mapping goes).
  // Set before the first refresh().
  void on_replaced(std::function<void(const std::string&)> f) { on_replaced_ = std::move(f); }
  InflatedCopyStats stats() const;

  struct Table;  // one copy file's header and member table (inflated_copy.cpp)

 private:
  std::shared_ptr<const Table> table_of(const std::string& file_name);

  std::filesystem::path archive_dir_, copy_dir_;
  ArchiveLock lock_;
  std::function<void(const std::string&)> on_replaced_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Table>> tables_;  // loaded or written by this process
  std::atomic<std::uint64_t> reads_{0}, fallbacks_{0}, refreshes_{0}, members_copied_{0};
};

}  // namespace pb::serve
