#include "ingest/input_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <zlib.h>
#include <zstd.h>

namespace pb {
namespace {

constexpr std::size_t kChunk = 256 * 1024;

// Owns a file descriptor (stdin is borrowed, never closed).
class Fd {
 public:
  Fd(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~Fd() {
    if (owned_ && fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
  bool owned_;
};

// The raw byte stream, with the sniffed magic bytes pushed back in front.
class RawReader {
 public:
  RawReader(int fd, bool owned, std::string name) : fd_(fd, owned), name_(std::move(name)) {}

  std::size_t read(std::span<char> buf) {
    if (pos_ < pushback_.size()) {
      const std::size_t n = std::min(buf.size(), pushback_.size() - pos_);
      std::memcpy(buf.data(), pushback_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    for (;;) {
      const ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
      if (n >= 0) {
        consumed_ += static_cast<std::uint64_t>(n);
        return static_cast<std::size_t>(n);
      }
      if (errno != EINTR) throw InputError(fmt::format("{}: read failed: {}", name_, std::strerror(errno)));
    }
  }

  // Reads up to 4 bytes to identify the format, then makes them readable again.
  std::string sniff() {
    char buf[4];
    std::size_t have = 0;
    while (have < sizeof buf) {
      const std::size_t n = read({buf + have, sizeof buf - have});
      if (n == 0) break;
      have += n;
    }
    pushback_.assign(buf, have);
    pos_ = 0;
    return pushback_;
  }

  std::uint64_t consumed() const { return consumed_; }
  int fd() const { return fd_.get(); }

 private:
  Fd fd_;
  std::string name_;
  std::string pushback_;
  std::size_t pos_ = 0;
  std::uint64_t consumed_ = 0;
};

class PlainSource final : public InputSource {
 public:
  PlainSource(InputInfo info, std::unique_ptr<RawReader> raw) : InputSource(std::move(info)), raw_(std::move(raw)) {}
  std::size_t read(std::span<char> buf) override { return raw_->read(buf); }
  std::uint64_t raw_bytes_read() const override { return raw_->consumed(); }

 private:
  std::unique_ptr<RawReader> raw_;
};

// Multi-member gzip (`cat a.gz b.gz` and pigz/bgzip output included).
class GzipSource final : public InputSource {
 public:
  GzipSource(InputInfo info, std::unique_ptr<RawReader> raw)
      : InputSource(std::move(info)), raw_(std::move(raw)), in_(kChunk) {
    if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) throw InputError(name() + ": inflateInit2 failed");
  }
  ~GzipSource() override { inflateEnd(&zs_); }

  std::size_t read(std::span<char> buf) override {
    zs_.next_out = reinterpret_cast<Bytef*>(buf.data());
    zs_.avail_out = static_cast<uInt>(buf.size());
    while (zs_.avail_out == buf.size()) {
      if (zs_.avail_in == 0) {
        const std::size_t n = raw_->read({in_.data(), in_.size()});
        if (n == 0) {
          if (mid_member_) throw InputError(fmt::format("{}: truncated gzip data at compressed byte {}", name(), raw_->consumed()));
          return 0;
        }
        zs_.next_in = reinterpret_cast<Bytef*>(in_.data());
        zs_.avail_in = static_cast<uInt>(n);
      }
      mid_member_ = true;
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        mid_member_ = false;
        inflateReset(&zs_);  // another member may follow
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw InputError(fmt::format("{}: corrupt gzip data near compressed byte {}: {}", name(),
                                     raw_->consumed() - zs_.avail_in, zs_.msg ? zs_.msg : "inflate error"));
      }
    }
    return buf.size() - zs_.avail_out;
  }
  std::uint64_t raw_bytes_read() const override { return raw_->consumed(); }

 private:
  std::unique_ptr<RawReader> raw_;
  std::vector<char> in_;
  z_stream zs_{};
  bool mid_member_ = false;
};

class ZstdSource final : public InputSource {
 public:
  ZstdSource(InputInfo info, std::unique_ptr<RawReader> raw)
      : InputSource(std::move(info)), raw_(std::move(raw)), in_(kChunk), dctx_(ZSTD_createDCtx()) {
    if (!dctx_) throw InputError(name() + ": ZSTD_createDCtx failed");
  }

  std::size_t read(std::span<char> buf) override {
    ZSTD_outBuffer out{buf.data(), buf.size(), 0};
    while (out.pos == 0) {
      if (in_buf_.pos == in_buf_.size) {
        const std::size_t n = raw_->read({in_.data(), in_.size()});
        if (n == 0) {
          if (frame_open_) throw InputError(fmt::format("{}: truncated zstd data at compressed byte {}", name(), raw_->consumed()));
          return 0;
        }
        in_buf_ = {in_.data(), n, 0};
      }
      const std::size_t rc = ZSTD_decompressStream(dctx_.get(), &out, &in_buf_);
      if (ZSTD_isError(rc))
        throw InputError(fmt::format("{}: corrupt zstd data near compressed byte {}: {}", name(),
                                     raw_->consumed() - (in_buf_.size - in_buf_.pos), ZSTD_getErrorName(rc)));
      frame_open_ = rc != 0;  // 0: a frame just ended cleanly
    }
    return out.pos;
  }
  std::uint64_t raw_bytes_read() const override { return raw_->consumed(); }

 private:
  struct DctxDeleter {
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
  };
  std::unique_ptr<RawReader> raw_;
  std::vector<char> in_;
  ZSTD_inBuffer in_buf_{nullptr, 0, 0};
  std::unique_ptr<ZSTD_DCtx, DctxDeleter> dctx_;
  bool frame_open_ = false;
};

// The byte source for `path`, decompressed, as it is.
std::unique_ptr<InputSource> open_undecorated_input(const std::string& path) {
  std::unique_ptr<RawReader> raw;
  std::string name = path;
  if (path == "-") {
    raw = std::make_unique<RawReader>(STDIN_FILENO, false, "<stdin>");
    name = "<stdin>";
  } else {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw InputError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    raw = std::make_unique<RawReader>(fd, true, path);
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) throw InputError(path + ": is a directory");
  }
  InputInfo info{name, InputCompression::none, std::nullopt};
  struct stat st {};
  if (::fstat(raw->fd(), &st) == 0 && S_ISREG(st.st_mode)) info.raw_size = static_cast<std::uint64_t>(st.st_size);

  const std::string magic = raw->sniff();
  if (magic.size() >= 2 && static_cast<unsigned char>(magic[0]) == 0x1f && static_cast<unsigned char>(magic[1]) == 0x8b) {
    info.compression = InputCompression::gzip;
    return std::make_unique<GzipSource>(std::move(info), std::move(raw));
  }
  if (magic.size() >= 4 && magic == std::string("\x28\xb5\x2f\xfd", 4)) {
    info.compression = InputCompression::zstd;
    return std::make_unique<ZstdSource>(std::move(info), std::move(raw));
  }
  return std::make_unique<PlainSource>(std::move(info), std::move(raw));
}

// A UTF-8 byte-order mark at the very start of an input (exports from Windows tools carry one) is not
// part of the first line: it is dropped here, once, after decompression, so the first event parses.
class BomSkippingSource final : public InputSource {
 public:
  explicit BomSkippingSource(std::unique_ptr<InputSource> inner)
      : InputSource(InputInfo{inner->name(), inner->compression(), inner->raw_size()}), inner_(std::move(inner)) {}

  std::size_t read(std::span<char> buf) override {
    if (!started_) read_head();
    if (head_.size() > head_pos_ && !buf.empty()) {
      const std::size_t n = std::min(buf.size(), head_.size() - head_pos_);
      std::copy_n(head_.data() + head_pos_, n, buf.data());
      head_pos_ += n;
      return n;
    }
    if (head_error_) std::rethrow_exception(std::exchange(head_error_, nullptr));
    return inner_->read(buf);
  }

  std::uint64_t raw_bytes_read() const override { return inner_->raw_bytes_read(); }

 private:
  static constexpr std::string_view kBom = "\xEF\xBB\xBF";

  void read_head() {
    started_ = true;
    char b[kBom.size()];
    std::size_t got = 0;
    try {
      while (got < kBom.size()) {
        const std::size_t n = inner_->read({b + got, kBom.size() - got});
        if (n == 0) break;
        got += n;
      }
    } catch (const InputError&) {
      head_error_ = std::current_exception();  // reported after the bytes read before it
    }
    head_.assign(b, got);
    if (head_ == kBom) head_.clear();
  }

  std::unique_ptr<InputSource> inner_;
  bool started_ = false;
  std::string head_;  // the first bytes, unless they were a BOM
  std::size_t head_pos_ = 0;
  std::exception_ptr head_error_;
};

}  // namespace

std::unique_ptr<InputSource> open_input(const std::string& path) {
  return std::make_unique<BomSkippingSource>(open_undecorated_input(path));
}

}  // namespace pb
