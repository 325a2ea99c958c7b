// Small RAII wrappers over POSIX file descriptors for the archive's append/sync/truncate needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace pb {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Each throws std::runtime_error naming the path and the OS error.
UniqueFd open_or_throw(const std::filesystem::path& path, int flags, int mode = 0644);
void write_all(int fd, std::string_view data, const std::filesystem::path& path_for_errors);
// pread until `n` bytes are in `out` or the file ends; returns how many were read.
std::size_t read_at_most(int fd, void* out, std::size_t n, std::uint64_t offset,
                         const std::filesystem::path& path_for_errors);
void sync_data(int fd, const std::filesystem::path& path_for_errors);
void truncate_to(const std::filesystem::path& path, std::uint64_t size);
std::uint64_t file_size_or_zero(const std::filesystem::path& path);

}  // namespace pb
