// push: archive folder -> s3://bucket/prefix; pull: the reverse. Both compare each file with its
// object first (size, then the sha256 we store in x-amz-meta-sha256, or the MD5 ETag of a single-part
// object written by another tool) and move only what differs, so a rerun after any failure transfers
// exactly what is still missing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "s3/multipart_upload.hpp"
#include "s3/s3_client.hpp"
#include "s3/s3_location.hpp"

namespace pb::s3 {

// Below this folder of the archive: multipart state and the index snapshot (never uploaded).
inline constexpr const char* kS3StateDir = ".proton-beam-s3";
inline constexpr const char* kIndexSnapshotName = "index.db.snapshot";  // in kS3StateDir while a push runs
inline constexpr const char* kDigestCacheName = "sha256-cache";          // in kS3StateDir (digest_cache.hpp)

struct SyncOptions {
  std::uint64_t part_size = 64ull << 20;  // files larger than this go multipart
  int parallel = 4;                       // parts in flight
  ClientOptions client;
};

enum class FileAction { transferred, skipped, failed };

struct FileResult {
  std::string name;
  FileAction action;
  std::uint64_t bytes;
  std::string error;  // when failed
};

class SyncObserver {
 public:
  virtual ~SyncObserver() = default;
  virtual void on_plan(std::size_t files) = 0;
  virtual void on_file(const FileResult& r) = 0;
  virtual void on_note(const std::string& message) = 0;  // retries, resumptions, tolerated failures
};

struct SyncSummary {
  std::vector<FileResult> files;
  double elapsed_s = 0;
  std::size_t digests_cached = 0;  // push: files whose sha256 came from the digest cache, not from reading them
  std::size_t count(FileAction a) const;
  std::uint64_t bytes(FileAction a) const;
};

// One file of a push: its object name, the local file its bytes are read from, and how many of them:
// a prefix (the committed length of a day file a writer may still be appending to), or nullopt for
// the whole file as it is when its turn comes.
struct PushItem {
  std::string name;
  std::filesystem::path path;
  std::optional<std::uint64_t> size;
};

// Uploads the files of `plan` in its order, skipping objects that already hold the same bytes. Takes
// no lock: the caller makes sure the planned bytes do not change meanwhile. Multipart state lives in
// `state_dir`/uploads. Failures as push_archive's.
SyncSummary push_files(const std::vector<PushItem>& plan, const std::filesystem::path& state_dir, const S3Location& to,
                       const AwsConfig& cfg, const SyncOptions& opt, SyncObserver& obs);

// Uploads every day file, a backup-API snapshot of index.db (as "index.db") and proton-beam.log,
// in that order, under a shared archive lock (no writer changes files meanwhile). Per-file failures
// are counted and the rest still goes; a failure that stops everything (no bucket, bad credentials,
// a cancellation through SyncOptions::client.stop) throws S3Error.
SyncSummary push_archive(const std::filesystem::path& dir, const S3Location& to, const AwsConfig& cfg,
                         const SyncOptions& opt, SyncObserver& obs);

// Downloads the archive's objects (day files, index.db, proton-beam.log directly under the prefix)
// into `dir` (created if missing) under an exclusive archive lock. Each download streams into a
// hidden partial file, resumes it with a Range GET after an interruption, is checked against the
// object's size and sha256, then renamed over the old file.
SyncSummary pull_archive(const S3Location& from, const std::filesystem::path& dir, const AwsConfig& cfg,
                         const SyncOptions& opt, SyncObserver& obs);

}  // namespace pb::s3
