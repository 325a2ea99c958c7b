#include "s3/s3_location.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace pb::s3 {

std::string S3Location::key_for(std::string_view name) const {
  return prefix.empty() ? std::string(name) : fmt::format("{}/{}", prefix, name);
}

std::string S3Location::list_prefix() const { return prefix.empty() ? std::string() : prefix + "/"; }

std::string S3Location::url() const {
  return prefix.empty() ? fmt::format("s3://{}", bucket) : fmt::format("s3://{}/{}", bucket, prefix);
}

S3Location parse_s3_url(std::string_view url) {
  constexpr std::string_view scheme = "s3://";
  if (!url.starts_with(scheme)) throw std::invalid_argument(fmt::format("'{}' is not an s3://BUCKET[/PREFIX] URL", url));
  std::string_view rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  S3Location loc;
  loc.bucket = std::string(rest.substr(0, slash));
  if (loc.bucket.size() < 3 || loc.bucket.size() > 63 ||
      loc.bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos ||
      loc.bucket.front() == '.' || loc.bucket.front() == '-' || loc.bucket.back() == '.' || loc.bucket.back() == '-')
    throw std::invalid_argument(fmt::format("'{}': bad bucket name '{}' (3-63 characters of a-z, 0-9, '.', '-')", url, loc.bucket));
  if (slash != std::string_view::npos) {
    std::string_view p = rest.substr(slash + 1);
    while (p.starts_with('/')) p.remove_prefix(1);
    while (p.ends_with('/')) p.remove_suffix(1);
    if (p.find("//") != std::string_view::npos)
      throw std::invalid_argument(fmt::format("'{}': empty path segment in the prefix", url));
    loc.prefix = std::string(p);
  }
  return loc;
}

}  // namespace pb::s3
