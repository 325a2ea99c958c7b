// One gzip member per call (libdeflate, whole-buffer). Day files are concatenations of members, each
// holding whole records, so any gzip reader reads a file and a member offset is a random-access point.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

struct libdeflate_compressor;

namespace pb {

// Raw record bytes per member before the writer seals it. A reader of one event inflates its whole
// member: 128 KiB made serve's scattered queries ~8-30x faster than 1 MiB for 1.8% more bytes, and 64 KiB
// another +35% queries/s for 1.9% more (docs/archive-format.md, "Member size").
inline constexpr std::size_t kDefaultMemberBytes = 64u << 10;

class GzipMemberCompressor {
 public:
  explicit GzipMemberCompressor(int level);  // 0..9 as gzip levels (libdeflate accepts up to 12)
  ~GzipMemberCompressor();
  GzipMemberCompressor(GzipMemberCompressor&&) noexcept;
  GzipMemberCompressor& operator=(GzipMemberCompressor&&) noexcept;

  int level() const { return level_; }

  // Appends one complete gzip member holding `data` to `out`.
  void compress(std::span<const std::uint8_t> data, std::string& out);

 private:
  struct Deleter {
    void operator()(libdeflate_compressor* c) const;
  };
  std::unique_ptr<libdeflate_compressor, Deleter> compressor_;
  int level_;
};

}  // namespace pb
