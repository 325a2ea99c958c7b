// The importer's machine-readable summary (--summary-json).
#pragma once

#include <string>

#include "clickhouse/importer.hpp"

namespace pb::ch {

std::string summary_json(const ImportSummary& s, const std::string& status, const std::string& error);

}  // namespace pb::ch
