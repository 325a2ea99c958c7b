// Finishing a repair that crashed after its index commit: the redo list in the index's meta table names
// the renames still to do (docs/archive-format.md, "Verify and repair"). Here, in the archive layer,
// because every writer replays it on open before it looks at the files.
#include "archive/repair_journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "base/posix_file.hpp"

namespace pb {

namespace fs = std::filesystem;

void sync_dir(const fs::path& dir) {
  UniqueFd fd = open_or_throw(dir, O_RDONLY | O_DIRECTORY);
  if (::fsync(fd.get()) != 0)
    throw std::runtime_error(fmt::format("cannot sync {}: {}", dir.string(), std::strerror(errno)));
}

std::vector<std::string> finish_interrupted_repair(const fs::path& dir, ArchiveIndex& index, bool fsync) {
  const auto redo = index.meta(kRepairRedoKey);
  if (!redo) return {};
  std::vector<std::string> actions;
  const fs::path rdir = dir / kRepairDirName;
  std::istringstream lines(*redo);
  for (std::string line; std::getline(lines, line);) {
    const auto t1 = line.find('\t');
    const auto t2 = line.find('\t', t1 + 1);
    if (t1 == std::string::npos || t2 == std::string::npos) continue;
    const std::string op = line.substr(0, t1);
    const std::string name = line.substr(t1 + 1, t2 - t1 - 1);
    const std::string backup = line.substr(t2 + 1);
    const fs::path target = dir / name;
    const fs::path side = rdir / (name + ".new");
    std::error_code ec;
    const bool target_exists = fs::exists(target, ec);
    // Keep the original once: a rerun after a crash finds the link already there.
    auto keep_original = [&] {
      if (backup == "-" || !target_exists) return;
      if (::link(target.c_str(), (rdir / backup).c_str()) != 0 && errno != EEXIST)
        throw std::runtime_error(fmt::format("cannot keep the original of {}: {}", name, std::strerror(errno)));
    };
    if (op == "replace" && fs::exists(side, ec)) {
      keep_original();
      fs::rename(side, target);
      actions.push_back(fmt::format("{}: replaced by its repaired version", name));
    } else if (op == "remove" && target_exists) {
      keep_original();
      fs::remove(target);
      actions.push_back(fmt::format("{}: removed (no valid event left)", name));
    }
  }
  if (fsync) sync_dir(dir);
  index.begin();
  index.erase_meta(kRepairRedoKey);
  index.commit();
  return actions;
}

}  // namespace pb
