#!/usr/bin/env bash
# Quick start #2: install what is needed, build, and run the whole test suite (unit + integration)
# under ctest, then the unit tests again in the ASan+UBSan build. PB_SKIP_SANITIZE=1 skips the latter.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh > /dev/null
(cd build && ctest --output-on-failure -j 2 --timeout 1200)
if [ "${PB_SKIP_SANITIZE:-0}" != 1 ]; then
  scripts/build.sh --sanitize > /dev/null
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j 2 --timeout 1800)
fi
