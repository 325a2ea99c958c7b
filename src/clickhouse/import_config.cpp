#include "clickhouse/import_config.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace pb::ch {

ImportConfigFile load_import_config(const std::filesystem::path& path) {
  toml::table tbl;
  try {
    tbl = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(fmt::format("{}: {}", path.string(), e.description()));
  }
  ImportConfigFile c;
  auto bad = [&](std::string_view key, std::string_view want) {
    return std::runtime_error(fmt::format("{}: '{}' must be {}", path.string(), key, want));
  };
  for (const auto& [k, node] : tbl) {
    std::string key(k.str());
    std::replace(key.begin(), key.end(), '-', '_');
    auto str = [&](std::optional<std::string>& out) {
      if (auto v = node.value<std::string>()) out = *v; else throw bad(key, "a string");
    };
    auto num = [&](std::optional<long long>& out) {
      if (auto v = node.value<long long>()) out = *v; else throw bad(key, "an integer");
    };
    auto flag = [&](std::optional<bool>& out) {
      if (auto v = node.value<bool>()) out = *v; else throw bad(key, "true or false");
    };
    if (key == "host") str(c.host);
    else if (key == "user") str(c.user);
    else if (key == "password") str(c.password);
    else if (key == "database") str(c.database);
    else if (key == "table") str(c.table);
    else if (key == "checkpoint") str(c.checkpoint);
    else if (key == "ca_file") str(c.ca_file);
    else if (key == "port") num(c.port);
    else if (key == "batch_size") num(c.batch_size);
    else if (key == "parallel") num(c.parallel);
    else if (key == "retries") num(c.retries);
    else if (key == "compression_level") num(c.compression_level);
    else if (key == "timeout") num(c.timeout);
    else if (key == "secure") flag(c.secure);
    else if (key == "insecure") flag(c.insecure);
    else if (key == "input") {
      const toml::array* arr = node.as_array();
      if (!arr) throw bad(key, "an array of strings");
      for (const auto& el : *arr) {
        if (auto v = el.value<std::string>()) c.inputs.push_back(*v); else throw bad(key, "an array of strings");
      }
    } else if (key == "settings") {
      const toml::table* t = node.as_table();
      if (!t) throw bad(key, "a table");
      for (const auto& [name, value] : *t) {
        if (auto s = value.value<std::string>()) c.settings[std::string(name.str())] = *s;
        else if (auto i = value.value<long long>()) c.settings[std::string(name.str())] = std::to_string(*i);
        else if (auto b = value.value<bool>()) c.settings[std::string(name.str())] = *b ? "1" : "0";
        else throw bad("settings." + std::string(name.str()), "a string, integer or boolean");
      }
    } else {
      throw std::runtime_error(fmt::format("{}: unknown key '{}'", path.string(), key));
    }
  }
  return c;
}

}  // namespace pb::ch
