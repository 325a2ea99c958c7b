#include "archive/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace pb {

ArchiveLock ArchiveLock::acquire(const std::filesystem::path& dir, Kind kind) {
  const auto path = dir / kLockFileName;
  UniqueFd fd;
  if (kind == Kind::exclusive) {
    fd = open_or_throw(path, O_RDWR | O_CREAT);
  } else {
    // flock works on a read-only descriptor, so a reader needs no write access to the folder.
    const int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw < 0) {
      if (errno != ENOENT) throw std::runtime_error(fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
      const int created = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (created < 0) return ArchiveLock();  // read-only folder without a lock file: no writer either
      fd = UniqueFd(created);
    } else {
      fd = UniqueFd(raw);
    }
  }
  const int op = (kind == Kind::exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
  if (::flock(fd.get(), op) != 0) {
    if (errno == EWOULDBLOCK) {
      if (kind == Kind::exclusive)
        throw std::runtime_error(fmt::format("{} is being written or verified by another proton-beam process", dir.string()));
      throw std::runtime_error(fmt::format("{} is being written by another proton-beam process", dir.string()));
    }
    throw std::runtime_error(fmt::format("cannot lock {}: {}", path.string(), std::strerror(errno)));
  }
  return ArchiveLock(std::move(fd));
}

}  // namespace pb
