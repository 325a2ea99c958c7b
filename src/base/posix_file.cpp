#include "base/posix_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace pb {
namespace {
[[noreturn]] void fail(const char* what, const std::filesystem::path& p) {
  throw std::runtime_error(fmt::format("{} {}: {}", what, p.string(), std::strerror(errno)));
}
}  // namespace

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

UniqueFd open_or_throw(const std::filesystem::path& path, int flags, int mode) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) fail("cannot open", path);
  return UniqueFd(fd);
}

void write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", path);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::size_t read_at_most(int fd, void* out, std::size_t n, std::uint64_t offset, const std::filesystem::path& path) {
  auto* p = static_cast<char*>(out);
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, p + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail("cannot read", path);
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

void sync_data(int fd, const std::filesystem::path& path) {
  if (::fdatasync(fd) != 0) fail("cannot sync", path);
}

void truncate_to(const std::filesystem::path& path, std::uint64_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) fail("cannot truncate", path);
}

std::uint64_t file_size_or_zero(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return 0;
    fail("cannot stat", path);
  }
  return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace pb
