// Random access to one gzip member of a day file: one pread of about the member's size and one
// libdeflate call (CRC-32 and length checked), for readers that want a single event (serve), where
// DayFileReader's sequential buffers (2 MiB of input, and the next member inflated to find the end of
// this one) cost many times the member itself.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct libdeflate_decompressor;

namespace pb {

// Inflates members one at a time into buffers it keeps: a serve cache miss used to allocate and zero
// 1 MiB of output and read 256 KiB of input for a ~60 KiB member (a miss-bound `#p` query: 120 -> 97 ms
// of serve CPU with reused buffers). Not thread-safe; one per thread (or borrowed from a pool).
class MemberInflater {
 public:
  MemberInflater();
  ~MemberInflater();
  MemberInflater(const MemberInflater&) = delete;
  MemberInflater& operator=(const MemberInflater&) = delete;

  // The inflated bytes of the member that starts at `offset`, which must hold whole records (our writer
  // never splits one); the view is valid until the next call. nullopt when that cannot be had this way —
  // the member is damaged, larger than 16 MiB either way, or its records run on into the next member (a
  // foreign file): the caller reads it with DayFileReader instead. Throws std::runtime_error when the
  // file cannot be opened or read.
  std::optional<std::string_view> inflate(const std::filesystem::path& file, std::uint64_t offset);
  // The compressed size of the member the last successful inflate() read (where the next one starts).
  std::size_t last_member_size() const { return last_member_size_; }

 private:
  struct Free {
    void operator()(libdeflate_decompressor* d) const;
  };
  std::unique_ptr<libdeflate_decompressor, Free> d_;
  std::vector<char> in_, out_;       // grown, never shrunk or cleared: no zeroing per member
  std::size_t first_read_ = 96u << 10;  // the last member's compressed size plus a margin
  std::size_t last_member_size_ = 0;
};

// One member with a fresh inflater (tests, one-off reads).
std::optional<std::string> inflate_member_at(const std::filesystem::path& file, std::uint64_t offset);

}  // namespace pb
