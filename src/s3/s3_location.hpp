// s3://BUCKET[/PREFIX] as given on the command line; objects are PREFIX/<file name>.
#pragma once

#include <string>
#include <string_view>

namespace pb::s3 {

struct S3Location {
  std::string bucket;
  std::string prefix;  // without leading or trailing '/'; may be empty

  // The object key of an archive file name: "PREFIX/name", or "name" without a prefix.
  std::string key_for(std::string_view name) const;
  // What list_objects() is asked for: "PREFIX/" (or "" for the whole bucket).
  std::string list_prefix() const;
  std::string url() const;  // back to s3://bucket/prefix, for messages
};

// Throws std::invalid_argument naming the problem for anything but s3://bucket[/prefix] with a
// bucket name S3 could accept (3-63 chars of a-z 0-9 . -).
S3Location parse_s3_url(std::string_view url);

}  // namespace pb::s3
