// Random access to one gzip member of a day file: one pread of about the member's size and one
// libdeflate call (CRC-32 and length checked), for readers that want a single event (serve), where
// DayFileReader's sequential buffers (2 MiB of input, and the next member inflated to find the end of
// this one) cost many times the member itself.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace pb {

// The inflated bytes of the member that starts at `offset`, which must hold whole records (our writer
// never splits one). nullopt when that cannot be had this way — the member is damaged, larger than
// 16 MiB either way, or its records run on into the next member (a foreign file): the caller reads it
// with DayFileReader instead. Throws std::runtime_error when the file cannot be opened or read.
std::optional<std::string> inflate_member_at(const std::filesystem::path& file, std::uint64_t offset);

}  // namespace pb
