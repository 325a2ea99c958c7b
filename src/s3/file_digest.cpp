#include "s3/file_digest.hpp"

#include <fcntl.h>
#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "nostr/hex.hpp"
#include "base/posix_file.hpp"

namespace pb::s3 {
namespace {

// pread until `len` bytes are in `buf`; throws on EOF before that.
void pread_all(int fd, std::uint8_t* buf, std::size_t len, std::uint64_t offset, const std::filesystem::path& path) {
  if (read_at_most(fd, buf, len, offset, path) < len)
    throw std::runtime_error(fmt::format("{} is shorter than expected (changed during the transfer?)", path.string()));
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

}  // namespace

std::string file_digest_hex(const std::filesystem::path& path, std::uint64_t size, std::string_view algorithm) {
  const UniqueFd fd = open_or_throw(path, O_RDONLY | O_CLOEXEC);
  const std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  const EVP_MD* md = EVP_get_digestbyname(std::string(algorithm).c_str());
  if (!ctx || !md || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1)
    throw std::runtime_error(fmt::format("cannot start a {} digest", algorithm));
  std::vector<std::uint8_t> buf(1 << 20);
  for (std::uint64_t off = 0; off < size;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), size - off));
    pread_all(fd.get(), buf.data(), n, off, path);
    EVP_DigestUpdate(ctx.get(), buf.data(), n);
    off += n;
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), out, &len);
  return to_hex(std::span<const std::uint8_t>(out, len));
}

std::vector<std::uint8_t> read_file_range(const std::filesystem::path& path, std::uint64_t offset, std::uint64_t length) {
  const UniqueFd fd = open_or_throw(path, O_RDONLY | O_CLOEXEC);
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(length));
  pread_all(fd.get(), buf.data(), buf.size(), offset, path);
  return buf;
}

}  // namespace pb::s3
