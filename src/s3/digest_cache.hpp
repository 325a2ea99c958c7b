// SHA-256 of files (or of a prefix of them) remembered between pushes, so that an unchanged day file is not
// read again every hour: <archive>/.proton-beam-s3/sha256-cache. An entry is used only while the file keeps
// its device, inode, length and modification time (rsync's rule, plus the inode, which a file replaced by
// rename changes), so a file changed in any way is hashed again. The cache is an optimisation: a missing or
// unreadable one is empty, and failing to save it is ignored.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

namespace pb::s3 {

class DigestCache {
 public:
  using Compute = std::function<std::string(const std::filesystem::path&, std::uint64_t size)>;
  // Loads `file`; `compute` hashes on a miss (default: file_digest_hex(path, size, "SHA256")).
  explicit DigestCache(std::filesystem::path file, Compute compute = {});

  // Lowercase hex SHA-256 of the first `size` bytes of `path`.
  std::string sha256(const std::filesystem::path& path, std::uint64_t size);
  // Writes the entries used since loading (files gone from the archive drop out): temp file + rename.
  void save() const;
  std::size_t hits() const { return hits_; }

 private:
  struct Entry {
    std::uint64_t dev = 0, ino = 0, file_size = 0, prefix = 0;
    std::int64_t mtime_ns = 0;
    std::string sha;
    bool used = false;
    bool operator==(const Entry& o) const {
      return dev == o.dev && ino == o.ino && file_size == o.file_size && prefix == o.prefix && mtime_ns == o.mtime_ns;
    }
  };
  std::filesystem::path file_;
  Compute compute_;
  std::map<std::string, Entry> entries_;  // by path
  std::size_t hits_ = 0;
};

}  // namespace pb::s3
