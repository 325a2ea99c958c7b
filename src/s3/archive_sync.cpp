#include "s3/archive_sync.hpp"

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <map>

#include <fmt/format.h>

#include "archive/lock.hpp"
#include "archive/day.hpp"
#include "base/posix_file.hpp"
#include "archive/run_log.hpp"
#include "s3/digest_cache.hpp"
#include "s3/file_digest.hpp"
#include "s3/index_snapshot.hpp"

namespace pb::s3 {
namespace {

namespace fs = std::filesystem;
constexpr const char* kIndexName = "index.db";

bool is_archive_file(std::string_view name) {
  return parse_day_file_name(name).has_value() || name == kIndexName || name == kLogFileName;
}

// Day files first (sorted), then the index, then the log: an archive on S3 whose index is there has
// its day files there too.
int rank(std::string_view name) { return name == kIndexName ? 1 : name == kLogFileName ? 2 : 0; }
bool upload_order(const std::string& a, const std::string& b) {
  return rank(a) != rank(b) ? rank(a) < rank(b) : a < b;
}

bool is_md5_etag(const std::string& etag) {
  return etag.size() == 32 && etag.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Is the remote object (already known to have `size` bytes) the same as the local file?
// `local_sha` is computed by the caller when needed.
bool same_content(const ObjectInfo& head, const fs::path& local, std::uint64_t size, const std::string& local_sha) {
  if (head.size != size) return false;
  if (!head.sha256.empty()) return head.sha256 == local_sha;
  if (is_md5_etag(head.etag)) return head.etag == file_digest_hex(local, size, "MD5");
  return false;  // a multipart object from another tool: nothing to compare, so transfer it
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

ClientOptions with_notes(ClientOptions o, SyncObserver& obs) {
  o.on_warning = [&obs](const std::string& m) { obs.on_note(m); };
  return o;
}

// Marks one file's transfer failed, or rethrows when no other file could escape the error either
// (a missing bucket, refused credentials): those end the whole push or pull at once.
void record_failure(FileResult& r, const std::exception& e) {
  if (const auto* s3 = dynamic_cast<const S3Error*>(&e))
    if (s3->code() == "NoSuchBucket" || s3->status() == 403 || s3->code() == "InvalidAccessKeyId" ||
        s3->code() == "Cancelled")
      throw;
  r.action = FileAction::failed;
  r.error = e.what();
}

}  // namespace

std::size_t SyncSummary::count(FileAction a) const {
  return static_cast<std::size_t>(std::count_if(files.begin(), files.end(), [a](const FileResult& f) { return f.action == a; }));
}

std::uint64_t SyncSummary::bytes(FileAction a) const {
  std::uint64_t n = 0;
  for (const auto& f : files)
    if (f.action == a) n += f.bytes;
  return n;
}

SyncSummary push_files(const std::vector<PushItem>& plan, const fs::path& state_dir, const S3Location& to,
                       const AwsConfig& cfg, const SyncOptions& opt, SyncObserver& obs) {
  const auto t0 = std::chrono::steady_clock::now();
  obs.on_plan(plan.size());
  S3Client client(cfg, to.bucket, with_notes(opt.client, obs));
  // One listing tells which objects exist and their sizes (and fails early on a missing bucket).
  std::map<std::string, ObjectInfo> remote;
  for (auto& o : client.list_objects(to.list_prefix())) remote[o.key] = std::move(o);

  SyncSummary sum;
  const MultipartOptions mp{opt.part_size, opt.parallel, state_dir / "uploads"};
  std::error_code ec;
  fs::create_directories(state_dir, ec);
  DigestCache digests(state_dir / kDigestCacheName);
  for (const auto& [name, path, size] : plan) {
    const std::string key = to.key_for(name);
    FileResult r{name, FileAction::transferred, 0, {}};
    try {
      r.bytes = size ? *size : fs::file_size(path);
      const std::string sha = digests.sha256(path, r.bytes);
      const auto it = remote.find(key);
      if (it != remote.end() && it->second.size == r.bytes) {
        const std::optional<ObjectInfo> head = client.head_object(key);
        if (head && same_content(*head, path, r.bytes, sha)) r.action = FileAction::skipped;
      }
      if (r.action != FileAction::skipped) {
        if (r.bytes > opt.part_size) {
          multipart_upload(client, key, path, r.bytes, sha, mp, [&obs](const std::string& m) { obs.on_note(m); });
        } else {
          const auto body = read_file_range(path, 0, r.bytes);
          if (sha256_hex(body) != sha) throw std::runtime_error(fmt::format("{} changed while it was being uploaded", name));
          client.put_object(key, body, sha);
        }
      }
    } catch (const std::exception& e) {
      record_failure(r, e);
    }
    obs.on_file(r);
    sum.files.push_back(std::move(r));
  }
  digests.save();
  sum.digests_cached = digests.hits();
  sum.elapsed_s = seconds_since(t0);
  return sum;
}

SyncSummary push_archive(const fs::path& dir, const S3Location& to, const AwsConfig& cfg, const SyncOptions& opt,
                         SyncObserver& obs) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!fs::is_directory(dir)) throw std::runtime_error(fmt::format("{}: no such archive folder", dir.string()));
  const ArchiveLock lock = ArchiveLock::acquire(dir, ArchiveLock::Kind::shared);
  const fs::path state_dir = dir / kS3StateDir;

  // What to send, with the local path each name is read from.
  std::map<std::string, fs::path, decltype(&upload_order)> files(&upload_order);
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && is_archive_file(name)) files[name] = e.path();
  }
  if (files.contains(kIndexName)) {
    fs::create_directories(state_dir);
    const fs::path snap = state_dir / kIndexSnapshotName;
    snapshot_sqlite(dir / kIndexName, snap);
    files[kIndexName] = snap;
  }
  std::vector<PushItem> plan;
  for (const auto& [name, path] : files) plan.push_back({name, path, std::nullopt});
  SyncSummary sum = push_files(plan, state_dir, to, cfg, opt, obs);
  std::error_code ec;
  fs::remove(state_dir / kIndexSnapshotName, ec);
  sum.elapsed_s = seconds_since(t0);
  return sum;
}

SyncSummary pull_archive(const S3Location& from, const fs::path& dir, const AwsConfig& cfg, const SyncOptions& opt,
                         SyncObserver& obs) {
  const auto t0 = std::chrono::steady_clock::now();
  fs::create_directories(dir);
  const ArchiveLock lock = ArchiveLock::acquire(dir, ArchiveLock::Kind::exclusive);
  S3Client client(cfg, from.bucket, with_notes(opt.client, obs));

  std::map<std::string, ObjectInfo, decltype(&upload_order)> plan(&upload_order);
  const std::string prefix = from.list_prefix();
  for (auto& o : client.list_objects(prefix)) {
    const std::string name = o.key.substr(prefix.size());
    if (name.find('/') == std::string::npos && is_archive_file(name)) plan[name] = std::move(o);
  }
  obs.on_plan(plan.size());

  SyncSummary sum;
  for (const auto& [name, obj] : plan) {
    FileResult r{name, FileAction::transferred, obj.size, {}};
    const fs::path local = dir / name;
    const fs::path partial = dir / fmt::format(".{}.s3-partial", name);
    try {
      std::optional<ObjectInfo> head;
      std::error_code ec;
      if (fs::is_regular_file(local) && fs::file_size(local, ec) == obj.size) {
        head = client.head_object(obj.key);
        if (head && same_content(*head, local, obj.size, file_digest_hex(local, obj.size, "SHA256"))) r.action = FileAction::skipped;
      }
      if (r.action != FileAction::skipped) {
        const std::string meta_sha = client.get_object(obj.key, partial, obj.size);
        const std::uint64_t got = fs::file_size(partial);
        ObjectInfo check{obj.key, obj.size, obj.etag, meta_sha};
        if (got != obj.size || ((!meta_sha.empty() || is_md5_etag(obj.etag)) &&
                                !same_content(check, partial, got, file_digest_hex(partial, got, "SHA256")))) {
          fs::remove(partial, ec);
          throw std::runtime_error(fmt::format("{}: the download does not match the object's size or checksum", name));
        }
        {
          const UniqueFd fd = open_or_throw(partial, O_RDONLY | O_CLOEXEC);
          sync_data(fd.get(), partial);
        }
        if (name == kIndexName) {
          // A stale WAL beside a replaced database would be replayed into it.
          for (const char* side : {"index.db-wal", "index.db-shm"}) fs::remove(dir / side, ec);
        }
        fs::rename(partial, local);
      }
    } catch (const std::exception& e) {
      record_failure(r, e);
    }
    obs.on_file(r);
    sum.files.push_back(std::move(r));
  }
  sum.elapsed_s = seconds_since(t0);
  return sum;
}

}  // namespace pb::s3
