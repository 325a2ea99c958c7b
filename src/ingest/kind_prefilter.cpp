#include "ingest/kind_prefilter.hpp"

namespace pb {

bool kind_above_limit(std::string_view s) {
  int depth = 0;
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const char c = s[i];
    if (c == '"') {
      const std::size_t start = ++i;
      while (i < n && s[i] != '"') i += (s[i] == '\\') ? 2 : 1;
      if (i >= n) return false;
      const std::string_view str = s.substr(start, i - start);
      ++i;
      if (depth != 1 || str != "kind") continue;
      std::size_t j = i;
      while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n')) ++j;
      if (j >= n || s[j] != ':') continue;  // "kind" as a value, not a key
      ++j;
      while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n')) ++j;
      std::size_t digits = 0;
      unsigned long long v = 0;
      while (j < n && s[j] >= '0' && s[j] <= '9') {
        if (++digits > 6) return true;  // 7+ digits: above 65535 whatever follows
        v = v * 10 + static_cast<unsigned>(s[j] - '0');
        ++j;
      }
      if (digits == 0) return false;
      if (j < n && (s[j] == '.' || s[j] == 'e' || s[j] == 'E')) return false;  // not an integer literal
      return v > 65535;
    }
    if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') --depth;
    ++i;
  }
  return false;
}

}  // namespace pb
