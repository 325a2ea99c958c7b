// Where to send requests and with which keys, resolved the way the AWS CLI and SDKs do:
//   credentials  AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else the profile
//                (AWS_PROFILE, default "default") in AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials,
//                else the same profile in AWS_CONFIG_FILE or ~/.aws/config ("[profile NAME]")
//   region       AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, else us-east-1
//   endpoint     --s3-endpoint, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's `endpoint_url`;
//                none: AWS itself, virtual-hosted (https://BUCKET.s3.REGION.amazonaws.com)
// An explicit endpoint (MinIO, s3rver, Ceph, ...) is addressed path-style: ENDPOINT/BUCKET/KEY.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "s3/sigv4.hpp"

namespace pb::s3 {

struct AwsConfig {
  Credentials credentials;
  std::string region = "us-east-1";
  std::string endpoint;  // scheme://host[:port] without a trailing '/'; empty: AWS
  bool path_style = false;
  std::string credential_source;  // e.g. "environment", "profile default (~/.aws/credentials)": never the keys
};

using EnvLookup = std::function<std::optional<std::string>(const char*)>;

// Reads the process environment.
std::optional<std::string> process_env(const char* name);

// `endpoint_override` is --s3-endpoint (empty: not given). Throws std::runtime_error when no
// credentials are found or the endpoint is not an http(s) URL; messages never contain secrets.
AwsConfig load_aws_config(const EnvLookup& env, std::string_view endpoint_override = {});

// The sections of an INI file as the AWS tools read it: "[name]" headers, "key = value" lines, '#' and
// ';' comments. Section names are kept as written ("default", "profile x").
using IniFile = std::map<std::string, std::map<std::string, std::string>>;
IniFile parse_ini(std::string_view text);

}  // namespace pb::s3
