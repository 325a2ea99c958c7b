// Text -> typed value conversions for configuration values, each returning an error message on failure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pb::daemon {

std::optional<std::string> parse_bool(const std::string& text, bool& out);
std::optional<std::string> parse_int(const std::string& text, std::int64_t min, std::int64_t max, std::int64_t& out);
std::optional<std::string> parse_seconds(const std::string& text, double& out);  // > 0
std::vector<std::string> split_list(const std::string& text);                      // by ',', trimmed, no empties
std::optional<std::string> parse_kinds(const std::string& text, std::vector<std::int32_t>& out);
std::optional<std::string> parse_authors(const std::string& text, std::vector<std::string>& out);
std::optional<std::string> parse_relays(const std::string& text, std::vector<std::string>& out);
std::optional<std::string> parse_listen(const std::string& text);  // HOST:PORT
// Splits a checked HOST:PORT ("[::1]:80" too).
std::pair<std::string, std::uint16_t> split_listen(const std::string& text);

std::string toml_string(const std::string& s);
std::string toml_list(const std::vector<std::string>& items, bool quoted);

}  // namespace pb::daemon
