// Multipart upload of one large file: parts read with pread and sent by several threads (one client
// each), every finished part recorded in a small state file so a killed run's successor continues
// the same upload instead of starting over. A part that fails for good (retries exhausted) aborts the
// whole upload (S3 keeps and bills orphaned parts otherwise) and removes the state; a cancelled one
// (ClientOptions::stop) keeps both, for the next run to resume.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "s3/s3_client.hpp"

namespace pb::s3 {

inline constexpr std::uint64_t kMinPartSize = 5ull << 20;  // S3's minimum for every part but the last
inline constexpr std::uint64_t kMaxParts = 10'000;

struct MultipartOptions {
  std::uint64_t part_size = 64ull << 20;
  int parallel = 4;
  std::filesystem::path state_dir;  // where <hash>.upload state files live
};

// The part size actually used for `size` bytes: `wanted`, grown (in whole MiB) when the file would
// otherwise need more than 10,000 parts.
std::uint64_t effective_part_size(std::uint64_t size, std::uint64_t wanted);

// Uploads the first `size` bytes of `path` to `key`. `client` provides the configuration (and does
// the create/complete calls); part uploads use their own clients. `on_note` hears resumptions.
void multipart_upload(S3Client& client, const std::string& key, const std::filesystem::path& path, std::uint64_t size,
                      const std::string& sha256_hex, const MultipartOptions& opt,
                      const std::function<void(const std::string&)>& on_note);

}  // namespace pb::s3
