#include "s3/committed_push.hpp"

#include <chrono>
#include <vector>

#include <fmt/format.h>

#include "archive/committed_files.hpp"
#include "s3/index_snapshot.hpp"

namespace pb::s3 {
namespace {

namespace fs = std::filesystem;

// The snapshot file and the side files SQLite may make beside it, removed however the push ends.
class SnapshotFile {
 public:
  explicit SnapshotFile(fs::path path) : path_(std::move(path)) { remove(); }
  ~SnapshotFile() { remove(); }
  SnapshotFile(const SnapshotFile&) = delete;
  SnapshotFile& operator=(const SnapshotFile&) = delete;
  const fs::path& path() const { return path_; }

 private:
  void remove() const {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path_.string() + suffix, ec);
  }
  fs::path path_;
};

}  // namespace

CommittedPush push_committed(const fs::path& dir, const S3Location& to, const AwsConfig& cfg, const SyncOptions& opt,
                             SyncObserver& obs) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path state_dir = dir / kS3StateDir;
  fs::create_directories(state_dir);
  const SnapshotFile snap(state_dir / kIndexSnapshotName);
  snapshot_sqlite(dir / "index.db", snap.path());

  CommittedPush out;
  std::vector<PushItem> plan;
  {
    ArchiveIndex index = ArchiveIndex::open(snap.path(), ArchiveIndex::Mode::read_only);
    for (const CommittedDayFile& f : committed_day_files(index)) {
      plan.push_back({f.name, dir / f.name, f.committed_bytes});
      out.events += f.events;
    }
  }
  out.day_files = plan.size();
  out.sync = push_files(plan, state_dir, to, cfg, opt, obs);
  // The index only after all its day files: it must never point past what the bucket holds.
  if (const std::size_t failed = out.sync.count(FileAction::failed); failed > 0) {
    FileResult r{"index.db", FileAction::failed, 0,
                 fmt::format("not uploaded: {} day file(s) failed, and the index would point past them", failed)};
    obs.on_file(r);
    out.sync.files.push_back(std::move(r));
  } else {
    const std::vector<PushItem> last{{"index.db", snap.path(), std::nullopt}};
    const SyncSummary index = push_files(last, state_dir, to, cfg, opt, obs);
    out.sync.files.insert(out.sync.files.end(), index.files.begin(), index.files.end());
  }
  out.sync.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace pb::s3
