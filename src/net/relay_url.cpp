#include "net/relay_url.hpp"

#include <boost/asio/ip/address.hpp>

namespace pb::net {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool host_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

RelayUrlParse fail(std::string message) { return RelayUrlParse{std::nullopt, std::move(message)}; }

}  // namespace

std::string RelayUrl::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const std::uint16_t def = tls() ? 443 : 80;
  if (port != def) h += ":" + std::to_string(port);
  return h;
}

RelayUrlParse parse_relay_url(std::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return fail("URL contains whitespace or control characters");
  }
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) return fail("missing scheme (expected ws:// or wss://)");
  RelayUrl url;
  url.scheme = to_lower(text.substr(0, sep));
  if (url.scheme != "ws" && url.scheme != "wss") return fail("unsupported scheme '" + url.scheme + "'");
  if (text.find('#') != std::string_view::npos) return fail("fragments are not allowed");

  std::string_view rest = text.substr(sep + 3);
  const auto auth_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view path_query = auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);
  if (authority.find('@') != std::string_view::npos) return fail("userinfo is not allowed");
  if (authority.empty()) return fail("empty host");

  std::string_view host_part;
  std::string_view port_part;
  bool has_port = false;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated IPv6 literal");
    host_part = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("unexpected characters after IPv6 literal");
      has_port = true;
      port_part = after.substr(1);
    }
    if (host_part.find('%') != std::string_view::npos) return fail("IPv6 zone ids are not allowed");
    boost::system::error_code ec;
    const auto v6 = boost::asio::ip::make_address_v6(std::string(host_part), ec);
    if (ec) return fail("invalid IPv6 literal");
    url.host = v6.to_string();
    url.host_is_ip = true;
  } else {
    const auto colon = authority.find(':');
    host_part = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_part = authority.substr(colon + 1);
    }
    if (host_part.empty()) return fail("empty host");
    url.host = to_lower(host_part);
    for (char c : url.host)
      if (!host_char_ok(c)) return fail("invalid character in host");
    if (url.host.front() == '.' || url.host.front() == '-' || url.host.find("..") != std::string::npos)
      return fail("malformed host name");
    boost::system::error_code ec;
    const auto v4 = boost::asio::ip::make_address_v4(url.host, ec);
    if (!ec) {
      url.host = v4.to_string();
      url.host_is_ip = true;
    }
  }

  url.port = url.tls() ? 443 : 80;
  if (has_port) {
    if (port_part.empty() || port_part.size() > 5) return fail("invalid port");
    unsigned value = 0;
    for (char c : port_part) {
      if (c < '0' || c > '9') return fail("invalid port");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return fail("port out of range");
    url.port = static_cast<std::uint16_t>(value);
  }

  url.target = path_query.empty() ? "/" : std::string(path_query);
  if (url.target.front() == '?') url.target.insert(0, "/");
  url.normalized = url.scheme + "://" + url.host_header() + url.target;
  return RelayUrlParse{std::move(url), {}};
}

}  // namespace pb::net
