// The repair redo journal (docs/archive-format.md, "Verify and repair"): the index transaction that
// describes repaired day files also lists, under meta key kRepairRedoKey, the renames still to do, one
// per line: "replace|remove <TAB> file name <TAB> backup name or -". Side files and kept originals live in
// <archive>/.proton-beam-repair/.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "archive/index.hpp"

namespace pb {

inline constexpr const char* kRepairDirName = ".proton-beam-repair";  // side files and originals
inline constexpr const char* kRepairRedoKey = "repair_redo";          // meta key: renames still to do

// fsync of a directory (so renames in it are durable). Throws std::runtime_error.
void sync_dir(const std::filesystem::path& dir);

// Completes a repair that was interrupted after its index commit. Called under the writer lock by
// repair_archive and by ArchiveWriter on open, before anything else looks at the files. Returns what it
// did (empty when nothing was pending).
std::vector<std::string> finish_interrupted_repair(const std::filesystem::path& dir, ArchiveIndex& index, bool fsync);

}  // namespace pb
