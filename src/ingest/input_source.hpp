// Byte sources for convert: a file or stdin, plain or gzip / zstd compressed. The format is detected
// from the first bytes (magic numbers), never from the file name alone.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

namespace pb {

enum class InputCompression { none, gzip, zstd };

struct InputInfo {
  std::string name;  // the path, or "<stdin>"
  InputCompression compression = InputCompression::none;
  std::optional<std::uint64_t> raw_size;  // size of the underlying file when known (not for pipes)
};

class InputSource {
 public:
  explicit InputSource(InputInfo info) : info_(std::move(info)) {}
  virtual ~InputSource() = default;

  // Reads up to buf.size() decompressed bytes; 0 means the end. Throws InputError when the input is
  // unreadable, truncated or corrupt; every byte returned before that is good.
  virtual std::size_t read(std::span<char> buf) = 0;

  // Bytes consumed from the underlying file or pipe so far (compressed bytes for compressed input).
  virtual std::uint64_t raw_bytes_read() const = 0;

  const std::string& name() const { return info_.name; }
  InputCompression compression() const { return info_.compression; }
  std::optional<std::uint64_t> raw_size() const { return info_.raw_size; }

 private:
  InputInfo info_;
};

struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Opens `path` ("-" for stdin) and sniffs the compression; a UTF-8 byte-order mark at the start of the
// (decompressed) input is skipped. Throws InputError when it cannot be opened.
std::unique_ptr<InputSource> open_input(const std::string& path);

}  // namespace pb
