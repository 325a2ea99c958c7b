// Streaming reader of day files: multi-member gzip (zlib) carrying varint-length-delimited records.
//
// Never loops or crashes on any input: a length prefix above kMaxRecordBytes, a bad varint, a gzip
// error or a truncated tail stops reading with an error that carries the compressed byte offset of the
// damage; every complete record before it has been returned. Records may span member boundaries (files
// written by other tools as a single gzip stream read the same way).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace pb {

struct ReadDamage {
  std::uint64_t offset;   // compressed byte offset in the file where the damage was detected
  std::string message;    // e.g. "truncated gzip member", "record length 3000000000 exceeds limit"
};

class DayFileReader {
 public:
  // Opens `path` and starts reading at compressed byte `start_offset`, which must be a member start
  // (0, or a member offset from the index). Throws std::runtime_error when the file cannot be opened.
  explicit DayFileReader(const std::filesystem::path& path, std::uint64_t start_offset = 0);
  ~DayFileReader();
  DayFileReader(DayFileReader&&) noexcept;
  DayFileReader& operator=(DayFileReader&&) noexcept;

  // The next record's ProtoEvent bytes (valid until the next call), or nullopt at the end of the file
  // or at damage (see damage()).
  std::optional<std::string_view> next();

  // Compressed offset of the gzip member in which the last returned record starts.
  std::uint64_t record_member_offset() const;

  // Compressed offset just past the last gzip member that ended cleanly (CRC and size checked).
  // After damage, everything before this offset is intact; repair cuts the file here.
  std::uint64_t clean_end_offset() const;

  // Set once next() has returned nullopt because of damage.
  const std::optional<ReadDamage>& damage() const;

  std::uint64_t records_read() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pb
