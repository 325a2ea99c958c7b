// Expands the importer's --input values into day files: a file is taken as is, a folder contributes its
// YYYY_MM_DD.pb.gz files in name order, and a value that names nothing but holds glob characters is
// expanded (quoted patterns work as well as the shell's own expansion).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "archive/lock.hpp"

namespace pb::ch {

struct ExpandedInputs {
  std::vector<std::filesystem::path> files;  // absolute, duplicates removed, in the order given
  std::vector<std::filesystem::path> archive_dirs;  // folders given (their lock is taken shared)
};

// Throws std::runtime_error for a value that matches nothing.
ExpandedInputs expand_inputs(const std::vector<std::string>& values);

// Shared archive locks on every folder, held while reading, so no writer changes the files meanwhile.
std::vector<ArchiveLock> lock_archives(const std::vector<std::filesystem::path>& dirs);

}  // namespace pb::ch
