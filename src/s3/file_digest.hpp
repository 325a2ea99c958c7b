// Digests and reads of the first `size` bytes of a file: the size is fixed when a transfer is planned,
// so a file that grows meanwhile (the log) is uploaded and checked as the prefix that was planned.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace pb::s3 {

// Lowercase hex digest ("SHA256" or "MD5", OpenSSL names) of the first `size` bytes of `path`.
// Throws std::runtime_error when the file is shorter or unreadable.
std::string file_digest_hex(const std::filesystem::path& path, std::uint64_t size, std::string_view algorithm);

// Bytes [offset, offset + length) of `path`.
std::vector<std::uint8_t> read_file_range(const std::filesystem::path& path, std::uint64_t offset, std::uint64_t length);

}  // namespace pb::s3
