// Importer settings from a TOML file (--config). Keys are the long option names, with '-' or '_':
//   host, port, user, password, database, table, secure, insecure, ca_file, batch_size, parallel, retries,
//   compression_level, timeout, checkpoint, input = [..], and a [settings] table of server settings.
// Precedence: command line > CLICKHOUSE_* environment > this file > built-in defaults.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pb::ch {

struct ImportConfigFile {
  std::optional<std::string> host, user, password, database, table, checkpoint, ca_file;
  std::optional<long long> port, batch_size, parallel, retries, compression_level, timeout;
  std::optional<bool> secure, insecure;
  std::vector<std::string> inputs;
  std::map<std::string, std::string> settings;
};

// Throws std::runtime_error naming the file and the problem (syntax error, unknown key, wrong type).
ImportConfigFile load_import_config(const std::filesystem::path& path);

}  // namespace pb::ch
