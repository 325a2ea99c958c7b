#include "serve/web_page.hpp"

#include <algorithm>
#include <span>
#include <stdexcept>
#include <string>

#include "nostr/crypto.hpp"

namespace pb::serve {
namespace {
#include "serve/web_page.html.inc"

std::string base64(std::span<const std::uint8_t> in) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, in.size() - i);
    std::uint32_t v = std::uint32_t{in[i]} << 16;
    if (n > 1) v |= std::uint32_t{in[i + 1]} << 8;
    if (n > 2) v |= in[i + 2];
    for (std::size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

// 'sha256-…' of the text between `open` and `close` (the one inline block of that element).
std::string block_hash(std::string_view page, std::string_view open, std::string_view close) {
  const auto start = page.find(open);
  const auto end = start == std::string_view::npos ? start : page.find(close, start + open.size());
  if (end == std::string_view::npos) throw std::logic_error("web page: no inline block " + std::string(open));
  const std::string_view body = page.substr(start + open.size(), end - start - open.size());
  const Id32 digest = sha256({reinterpret_cast<const std::uint8_t*>(body.data()), body.size()});
  return "'sha256-" + base64(digest) + "'";
}

std::string make_csp() {
  return "default-src 'none'; script-src " + block_hash(kWebPage, "<script>", "</script>") +
         "; style-src " + block_hash(kWebPage, "<style>", "</style>") +
         "; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
}

}  // namespace

std::string_view web_page_html() { return kWebPage; }

std::string_view web_page_csp() {
  static const std::string csp = make_csp();  // computed once, never changed
  return csp;
}

}  // namespace pb::serve
