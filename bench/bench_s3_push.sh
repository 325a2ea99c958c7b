#!/usr/bin/env bash
# S3 push of an unchanged archive, with and without the sha256 cache (.proton-beam-s3/sha256-cache):
# what the daemon's hourly push (--s3-output) and a rerun of `s3 push` cost when nothing changed. Uses
# the same test peers as the S3 tests (s3rver behind the botocore SigV4 proxy, loopback) and a copy of
# bench_serve's cached 1M-event archive (or ARCHIVE=DIR).
# Usage: bench/bench_s3_push.sh     Env: PB_BIN (default build-release/bin), ARCHIVE, PB_BENCH_COLD.
# Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
PB_SOURCE_DIR=$PWD
BIN=$(cd "${PB_BIN:-build-release/bin}" && pwd)
SRC=${ARCHIVE:-${XDG_CACHE_HOME:-$HOME/.cache}/proton-beam/bench-serve/archive-1000000-m128k}
[ -f "$SRC/index.db" ] || { echo "no archive at $SRC (run bench/bench_serve.sh once, or set ARCHIVE)" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pb-bench-s3.XXXXXX")
fail() { echo "FAIL: $*" >&2; exit 1; }
source tests/integration/s3_lib.sh
start_s3 bench
cp -r "$SRC" "$WORK/A"
rm -rf "$WORK/A/.proton-beam-s3"
echo "archive: $(du -sh "$WORK/A" | cut -f1), $(ls "$WORK/A" | grep -c '\.pb\.gz$') day files; s3rver on loopback; $(nproc) cores"
# PB_BENCH_COLD=1 (root): drop the page cache before each push, as on a server whose archive is larger than
# its memory (the realistic case for the hourly push: hashing then reads the disk).
push() {  # LABEL: one push, timed
  local t0 t1
  if [ "${PB_BENCH_COLD:-0}" = 1 ]; then sync; echo 3 > /proc/sys/vm/drop_caches; fi
  t0=$(date +%s.%N)
  "$BIN/proton-beam" s3 push "$WORK/A" s3://bench/a --json > "$WORK/push.json"
  t1=$(date +%s.%N)
  python3 - "$1" "$t0" "$t1" "$WORK/push.json" <<'PY'
import json, sys
label, t0, t1, s = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), json.load(open(sys.argv[4]))
print(f"{label}: {float(t1) - float(t0):.2f} s; transferred {s['transferred']}, unchanged {s['skipped']}, "
      f"sha256 from the cache {s['digests_cached']}")
PY
}
push "first push (everything uploaded)"
push "unchanged, with the cache"
push "unchanged, with the cache (again)"
rm -f "$WORK/A/.proton-beam-s3/sha256-cache"
push "unchanged, cache removed (every file read)"
push "unchanged, with the cache rebuilt by the run before"
