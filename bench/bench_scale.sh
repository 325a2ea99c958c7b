#!/usr/bin/env bash
# Scale benchmark (issue 13): convert chunk after chunk of a generated corpus into ONE archive and watch
# what happens as it grows. Prints, per chunk: events/s, CPU microseconds per event per pipeline stage
# (reader, workers, writer, index, compression; "serial" = writer + index, the single writer's ceiling),
# index bytes per stored event so far, and peak RSS. Then an all-duplicate rerun of the first chunk (id
# lookups/s at full size) and `index rebuild` records/s.
#
# Usage: bench/bench_scale.sh [MILLIONS]   (default 10; fractions allowed: 0.02 is a < 1 minute smoke run)
# Env:   PB_BIN=dir with proton-beam and pb-gen-corpus (default: scripts/build.sh --release, build-release/bin)
#        PB_BENCH_CACHE=dir for generated chunks (default ~/.cache/proton-beam/bench-scale; reused between runs)
#        PB_BENCH_DAYS=365 (days the corpus spans), PB_BENCH_VALIDATE=1 (0: skip id and signature checks)
#        PB_BENCH_KEEP=1 keeps the work directory (archive) and prints its path
#        PB_BENCH_CONVERT_ARGS="--index-cache-mib 64" adds options to every convert
# Not part of CI: the default size runs for tens of minutes and writes ~10 GB.
set -euo pipefail
cd "$(dirname "$0")/.."
MILLIONS=${1:-10}
DAYS=${PB_BENCH_DAYS:-365}
VALIDATE=${PB_BENCH_VALIDATE:-1}
CACHE=${PB_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/proton-beam/bench-scale}
if [ -n "${PB_BIN:-}" ]; then
  BIN=$PB_BIN
else
  scripts/build.sh --release > /dev/null
  BIN=build-release/bin
fi
for b in proton-beam pb-gen-corpus; do [ -x "$BIN/$b" ] || { echo "missing $BIN/$b" >&2; exit 2; }; done

read -r TOTAL CHUNK NCHUNKS < <(python3 -c "
import math,sys
total=int(round(float('$MILLIONS')*1e6))
if total < 2: sys.exit('MILLIONS too small')
chunk=1000000 if total >= 1000000 else max(1, total//2)
print(total, chunk, math.ceil(total/chunk))")

W=$(mktemp -d "${TMPDIR:-/tmp}/pb-bench-scale.XXXXXX")
if [ "${PB_BENCH_KEEP:-0}" = 1 ]; then echo "work dir: $W"; else trap 'rm -rf "$W"' EXIT; fi
mkdir -p "$CACHE"
ARCHIVE=$W/archive
CONVERT_OPTS=(--no-progress ${PB_BENCH_CONVERT_ARGS:-})
[ "$VALIDATE" = 1 ] || CONVERT_OPTS+=(--validate-signatures=false --validate-event-ids=false)

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "corpus: $TOTAL events in $NCHUNKS chunks of <= $CHUNK (pb-gen-corpus, seeds 1001.., $DAYS days), validate=$VALIDATE"
echo "binaries: $BIN ($(stat -c %y "$BIN/proton-beam" | cut -d. -f1))"

chunk_file() {  # i -> path of chunk i (generated once, then cached)
  local i=$1 n=$CHUNK
  local rest=$(( TOTAL - (i - 1) * CHUNK ))
  [ "$rest" -lt "$n" ] && n=$rest
  local f="$CACHE/chunk-s$((1000 + i))-n$n-d$DAYS.jsonl"
  if [ ! -s "$f" ]; then
    "$BIN/pb-gen-corpus" -q --events "$n" --seed $((1000 + i)) --days "$DAYS" --authors 100000 -o "$f.tmp"
    mv "$f.tmp" "$f"
  fi
  echo "$f"
}

index_bytes() {  # index.db plus its WAL, in bytes
  local t=0 f
  for f in "$ARCHIVE/index.db" "$ARCHIVE/index.db-wal"; do [ -f "$f" ] && t=$(( t + $(stat -c %s "$f") )); done
  echo "$t"
}

printf '%-6s %10s %9s | %7s %8s %7s %7s %8s %7s | %9s %9s %8s\n' chunk events ev/s reader workers writer index compress serial idx_B/ev archive_M peak_MB
stored=0
for i in $(seq 1 "$NCHUNKS"); do
  f=$(chunk_file "$i")
  /usr/bin/time -f '%M' -o "$W/rss" "$BIN/proton-beam" convert "$f" -o "$ARCHIVE" "${CONVERT_OPTS[@]}" \
    --summary-json "$W/s.json" > /dev/null
  valid=$(python3 -c "import json;print(json.load(open('$W/s.json'))['valid'])")
  stored=$(( stored + valid ))
  python3 - "$W/s.json" "$i" "$(index_bytes)" "$stored" "$(cat "$W/rss")" "$(du -sb "$ARCHIVE" | cut -f1)" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); i, idx, stored, rss, arch = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
u = s.get("stages_us_per_event", {})
g = lambda k: u.get(k, float("nan"))
print(f"{i:<6} {s['total_lines']:>10} {s['events_per_s']:>9.0f} | {g('reader'):>7.1f} {g('workers'):>8.1f} {g('writer'):>7.1f} "
      f"{g('index'):>7.1f} {g('compress'):>8.1f} {g('serial'):>7.1f} | {idx / max(stored, 1):>9.0f} {arch / 1e6:>9.0f} {rss / 1024:>8.0f}")
PY
done

# The first chunk again: every line is a duplicate, so this measures the id lookup at full size.
f=$(chunk_file 1)
/usr/bin/time -f '%M' -o "$W/rss" "$BIN/proton-beam" convert "$f" -o "$ARCHIVE" "${CONVERT_OPTS[@]}" \
  --summary-json "$W/dup.json" > /dev/null
python3 - "$W/dup.json" "$(cat "$W/rss")" "$stored" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"all-duplicate rerun of chunk 1 into {int(sys.argv[3]):,} events: {s['events_per_s']:,.0f} lines/s "
      f"({s['duplicates']:,} duplicates, {s['valid']} stored), peak RSS {int(sys.argv[2]) / 1024:.0f} MB")
PY

/usr/bin/time -f '%M' -o "$W/rss" "$BIN/proton-beam" index rebuild "$ARCHIVE" --no-progress --json > "$W/rebuild.json"
python3 - "$W/rebuild.json" "$(cat "$W/rss")" "$(index_bytes)" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"index rebuild: {s['records_per_s']:,.0f} records/s ({s['records']:,} records, {s['elapsed_s']:.1f} s), "
      f"peak RSS {int(sys.argv[2]) / 1024:.0f} MB, index {int(sys.argv[3]) / max(s['events'], 1):.0f} bytes/event after rebuild")
PY
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (figures from a shared machine are lower bounds; compare ratios within one run)"
