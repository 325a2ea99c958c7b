#include "s3/digest_cache.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "s3/file_digest.hpp"

namespace pb::s3 {

namespace fs = std::filesystem;

DigestCache::DigestCache(fs::path file, Compute compute) : file_(std::move(file)), compute_(std::move(compute)) {
  if (!compute_) compute_ = [](const fs::path& p, std::uint64_t size) { return file_digest_hex(p, size, "SHA256"); };
  std::ifstream in(file_);
  std::string line;
  while (std::getline(in, line)) {  // sha dev ino file_size mtime_ns prefix path
    std::istringstream fields(line);
    Entry e;
    std::string path;
    if (!(fields >> e.sha >> e.dev >> e.ino >> e.file_size >> e.mtime_ns >> e.prefix)) continue;
    fields.get();
    std::getline(fields, path);
    if (e.sha.size() == 64 && !path.empty()) entries_[path] = std::move(e);
  }
}

std::string DigestCache::sha256(const fs::path& path, std::uint64_t size) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return compute_(path, size);  // compute_ reports the error
  Entry now;
  now.dev = st.st_dev;
  now.ino = st.st_ino;
  now.file_size = static_cast<std::uint64_t>(st.st_size);
  now.prefix = size;
  now.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  Entry& e = entries_[path.string()];
  if (e == now && !e.sha.empty()) {
    ++hits_;
  } else {
    now.sha = compute_(path, size);
    e = std::move(now);
  }
  e.used = true;
  return e.sha;
}

void DigestCache::save() const {
  const fs::path tmp = fmt::format("{}.{}.tmp", file_.string(), ::getpid());  // two pushes never share it
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& [path, e] : entries_)
      if (e.used && path.find('\n') == std::string::npos)
        out << e.sha << ' ' << e.dev << ' ' << e.ino << ' ' << e.file_size << ' ' << e.mtime_ns << ' ' << e.prefix << ' '
            << path << '\n';
    if (!out.flush()) return;
  }
  std::error_code ec;
  fs::rename(tmp, file_, ec);
}

}  // namespace pb::s3
