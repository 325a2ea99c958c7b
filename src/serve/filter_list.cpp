#include "serve/filter_list.hpp"

namespace pb::serve {

FilterList parse_filter_elements(simdjson::dom::array arr, std::size_t first, std::size_t max_filters) {
  FilterList out;
  const std::size_t n = arr.size() > first ? arr.size() - first : 0;
  if (n > max_filters) {
    out.error = "invalid: too many filters (" + std::to_string(n) + ", at most " + std::to_string(max_filters) + ")";
    return out;
  }
  std::size_t i = 0;
  for (simdjson::dom::element e : arr) {
    if (i++ < first) continue;
    FilterParse p = parse_filter(e);
    if (p.error) {
      out.error = p.error->with_prefix();
      out.filters.clear();
      return out;
    }
    out.filters.push_back(std::move(*p.filter));
  }
  return out;
}

FilterList parse_filter_array_json(simdjson::dom::parser& parser, std::string_view json, std::size_t max_filters) {
  simdjson::dom::element root;
  simdjson::dom::array arr;
  if (parser.parse(json.data(), json.size(), true).get(root)) return {{}, "invalid: malformed JSON"};
  if (root.get_array().get(arr)) return {{}, "invalid: the body must be a JSON array of filters"};
  return parse_filter_elements(arr, 0, max_filters);
}

}  // namespace pb::serve
