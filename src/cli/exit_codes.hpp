// Exit statuses every proton-beam command uses (documented in --help and the README).
#pragma once

namespace pb::cli {

enum ExitCode : int {
  kExitOk = 0,            // the run completed (rejected events do not change this)
  kExitFailure = 1,       // a missing/unreadable input, an unwritable output, any other fatal error
  kExitUsage = 2,         // bad options or arguments
  kExitInputDamaged = 3,  // completed, but an input was truncated or corrupt (its valid lines were kept)
  kExitArchiveProblems = 4,  // verify: the archive has problems (with --repair: some remain after it)
  kExitUploadFailed = 5,     // the local archive is complete, but the S3 transfer failed (rerun to finish it)
};

inline constexpr const char* kExitCodeHelp =
    "Exit status: 0 the run completed (whatever the verdicts on events); 1 fatal error (missing or\n"
    "unreadable input, unwritable output); 2 bad options; 3 completed, but an input was truncated or\n"
    "corrupt (every valid line before the damage was kept); 4 verify found problems in the archive\n"
    "(with --repair: problems remain after the repair); 5 the local archive is complete but the S3\n"
    "upload (or s3 push/pull) failed: run it again to transfer what is missing.";

}  // namespace pb::cli
