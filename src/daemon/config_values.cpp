#include "daemon/config_values.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "net/relay_url.hpp"

namespace pb::daemon {

std::optional<std::string> parse_bool(const std::string& text, bool& out) {
  std::string t = text;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (t == "true" || t == "1" || t == "yes" || t == "on") return out = true, std::nullopt;
  if (t == "false" || t == "0" || t == "no" || t == "off") return out = false, std::nullopt;
  return fmt::format("'{}' is not a boolean (true/false)", text);
}

std::optional<std::string> parse_int(const std::string& text, std::int64_t min, std::int64_t max, std::int64_t& out) {
  std::int64_t v = 0;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || text.empty()) return fmt::format("'{}' is not an integer", text);
  if (v < min || v > max) return fmt::format("{} is outside {}..{}", v, min, max);
  out = v;
  return std::nullopt;
}

std::optional<std::string> parse_seconds(const std::string& text, double& out) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used != text.size() || !std::isfinite(v) || v <= 0) throw std::invalid_argument("");
    out = v;
    return std::nullopt;
  } catch (const std::exception&) {
    return fmt::format("'{}' is not a positive number of seconds", text);
  }
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
    start = end + 1;
  }
  return out;
}

std::optional<std::string> parse_kinds(const std::string& text, std::vector<std::int32_t>& out) {
  std::vector<std::int32_t> kinds;
  for (const auto& item : split_list(text)) {
    std::int64_t v = 0;
    if (auto err = parse_int(item, 0, 65535, v)) return "kind " + *err;
    kinds.push_back(static_cast<std::int32_t>(v));
  }
  std::sort(kinds.begin(), kinds.end());
  kinds.erase(std::unique(kinds.begin(), kinds.end()), kinds.end());
  out = std::move(kinds);
  return std::nullopt;
}

std::optional<std::string> parse_authors(const std::string& text, std::vector<std::string>& out) {
  std::vector<std::string> authors;
  for (auto item : split_list(text)) {
    std::transform(item.begin(), item.end(), item.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const bool hex = item.size() == 64 && item.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!hex) return fmt::format("'{}' is not a 64-character hex public key", item);
    authors.push_back(item);
  }
  out = std::move(authors);
  return std::nullopt;
}

std::optional<std::string> parse_relays(const std::string& text, std::vector<std::string>& out) {
  std::vector<std::string> relays;
  for (const auto& item : split_list(text)) {
    auto parsed = net::parse_relay_url(item);
    if (!parsed) return fmt::format("'{}' is not a ws:// or wss:// relay URL: {}", item, parsed.error);
    if (std::find(relays.begin(), relays.end(), parsed.url->normalized) == relays.end())
      relays.push_back(parsed.url->normalized);
  }
  out = std::move(relays);
  return std::nullopt;
}

std::pair<std::string, std::uint16_t> split_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::int64_t port = 0;
  parse_int(text.substr(colon + 1), 0, 65535, port);
  return {host, static_cast<std::uint16_t>(port)};
}

std::optional<std::string> parse_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return fmt::format("'{}' is not HOST:PORT", text);
  std::int64_t port = 0;
  if (auto err = parse_int(text.substr(colon + 1), 0, 65535, port)) return fmt::format("'{}': port {}", text, *err);
  return std::nullopt;
}

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string toml_list(const std::vector<std::string>& items, bool quoted) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += quoted ? toml_string(items[i]) : items[i];
  }
  return out + "]";
}

}  // namespace pb::daemon
