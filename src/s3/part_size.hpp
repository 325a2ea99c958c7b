// The multipart part size as users write it (--s3-part-size, the daemon's s3_part_size): "64M", "256K",
// "1G" or plain bytes, within S3's limits for a part.
#pragma once

#include <cstdint>
#include <string>

namespace pb::s3 {

// Bytes, checked against S3's 5 MiB - 5 GiB. Below 5 MiB only when the environment has
// PB_S3_ALLOW_SMALL_PARTS=1: for the tests, which exercise multipart with many parts on small files
// against s3rver (which, unlike S3, accepts small parts). Throws std::runtime_error naming the value.
std::uint64_t parse_part_size(const std::string& text);

}  // namespace pb::s3
