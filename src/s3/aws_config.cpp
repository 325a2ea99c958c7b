#include "s3/aws_config.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace pb::s3 {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

IniFile read_ini(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  std::ostringstream ss;
  ss << f.rdbuf();
  return parse_ini(ss.str());
}

const std::map<std::string, std::string>* section(const IniFile& ini, const std::string& name) {
  const auto it = ini.find(name);
  return it == ini.end() ? nullptr : &it->second;
}

std::string value_of(const std::map<std::string, std::string>* sec, const std::string& key) {
  if (!sec) return {};
  const auto it = sec->find(key);
  return it == sec->end() ? std::string() : it->second;
}

std::string non_empty(const EnvLookup& env, const char* name) {
  auto v = env(name);
  return v ? *v : std::string();
}

}  // namespace

std::optional<std::string> process_env(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return std::nullopt;
  return std::string(v);
}

IniFile parse_ini(std::string_view text) {
  IniFile ini;
  std::string current;
  bool in_section = false;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      current = std::string(trim(line.substr(1, line.size() - 2)));
      in_section = true;
      ini[current];
      continue;
    }
    const auto eq = line.find('=');
    if (!in_section || eq == std::string_view::npos) continue;  // nested (indented) s3 = ... blocks land here too
    ini[current][std::string(trim(line.substr(0, eq)))] = std::string(trim(line.substr(eq + 1)));
  }
  return ini;
}

AwsConfig load_aws_config(const EnvLookup& env, std::string_view endpoint_override) {
  AwsConfig cfg;
  const std::string home = non_empty(env, "HOME");
  std::string profile = non_empty(env, "AWS_PROFILE");
  if (profile.empty()) profile = "default";
  std::string cred_path = non_empty(env, "AWS_SHARED_CREDENTIALS_FILE");
  if (cred_path.empty() && !home.empty()) cred_path = home + "/.aws/credentials";
  std::string conf_path = non_empty(env, "AWS_CONFIG_FILE");
  if (conf_path.empty() && !home.empty()) conf_path = home + "/.aws/config";
  const IniFile creds_ini = cred_path.empty() ? IniFile{} : read_ini(cred_path);
  const IniFile conf_ini = conf_path.empty() ? IniFile{} : read_ini(conf_path);
  const auto* cred_sec = section(creds_ini, profile);
  const auto* conf_sec = section(conf_ini, profile == "default" ? profile : "profile " + profile);

  Credentials& c = cfg.credentials;
  c.access_key_id = non_empty(env, "AWS_ACCESS_KEY_ID");
  c.secret_access_key = non_empty(env, "AWS_SECRET_ACCESS_KEY");
  if (!c.access_key_id.empty() && !c.secret_access_key.empty()) {
    c.session_token = non_empty(env, "AWS_SESSION_TOKEN");
    cfg.credential_source = "environment";
  } else {
    for (const auto& [sec, where] : {std::pair{cred_sec, cred_path}, std::pair{conf_sec, conf_path}}) {
      if (value_of(sec, "aws_access_key_id").empty()) continue;
      c.access_key_id = value_of(sec, "aws_access_key_id");
      c.secret_access_key = value_of(sec, "aws_secret_access_key");
      c.session_token = value_of(sec, "aws_session_token");
      cfg.credential_source = fmt::format("profile {} ({})", profile, where);
      break;
    }
    if (c.access_key_id.empty() || c.secret_access_key.empty())
      throw std::runtime_error(fmt::format(
          "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give profile '{}' "
          "aws_access_key_id/aws_secret_access_key in {} (AWS_PROFILE selects another profile)",
          profile, cred_path.empty() ? "~/.aws/credentials" : cred_path));
  }

  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (cfg.region = non_empty(env, name); !cfg.region.empty()) break;
  }
  if (cfg.region.empty()) cfg.region = value_of(conf_sec, "region");
  if (cfg.region.empty()) cfg.region = "us-east-1";

  cfg.endpoint = std::string(endpoint_override);
  for (const char* name : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"})
    if (cfg.endpoint.empty()) cfg.endpoint = non_empty(env, name);
  if (cfg.endpoint.empty()) cfg.endpoint = value_of(conf_sec, "endpoint_url");
  while (cfg.endpoint.ends_with('/')) cfg.endpoint.pop_back();
  if (!cfg.endpoint.empty()) {
    if (!cfg.endpoint.starts_with("http://") && !cfg.endpoint.starts_with("https://"))
      throw std::runtime_error(fmt::format("S3 endpoint '{}' must start with http:// or https://", cfg.endpoint));
    if (cfg.endpoint.find('/', cfg.endpoint.find("//") + 2) != std::string::npos)
      throw std::runtime_error(fmt::format("S3 endpoint '{}' must be scheme://host[:port] without a path", cfg.endpoint));
    cfg.path_style = true;
  }
  return cfg;
}

}  // namespace pb::s3
