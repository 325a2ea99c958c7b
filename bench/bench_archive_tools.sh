#!/usr/bin/env bash
# End-to-end benchmark of the archive tools on one generated corpus. Prints, from one run on this machine:
#   - index rebuild records/s on all cores (and on one), for a many-day and a single-day archive
#   - export events/s and MB/s of JSON (whole archive; and a narrow indexed filter)
#   - merge MB/s of source day files and events/s (two overlapping archives into a new one)
#   - verify events/s (ids checked) and stats time
# Usage: bench/bench_archive_tools.sh [EVENTS] [DAYS] (default 300000 events over 30 days).
# Needs: scripts/setup.sh done. The corpus is converted without signature checks (not what is measured).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-300000}
DAYS=${2:-30}
CORES=$(nproc)
scripts/build.sh --release > /dev/null
BIN=build-release/bin
PB="$BIN/proton-beam"
W=$(mktemp -d "${TMPDIR:-/tmp}/pb-bench-tools.XXXXXX")
trap 'rm -rf "$W"' EXIT

echo "machine: $CORES cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r)"
echo "corpus: $N events over $DAYS days and over 1 day (pb-gen-corpus --seed 11 / 12), converted unvalidated"
"$BIN/pb-gen-corpus" -q --events "$N" --seed 11 --days "$DAYS" -o "$W/many.jsonl"
"$BIN/pb-gen-corpus" -q --events "$N" --seed 12 --days 1 -o "$W/one.jsonl"
NOVAL=(--validate-signatures=false --validate-event-ids=false --no-progress)
"$PB" convert "$W/many.jsonl" -o "$W/many" "${NOVAL[@]}" > /dev/null
"$PB" convert "$W/one.jsonl" -o "$W/one" "${NOVAL[@]}" > /dev/null
# Two archives that overlap by a third: lines [0, 2N/3) and [N/3, N).
head -n $((2 * N / 3)) "$W/many.jsonl" > "$W/a.jsonl"
tail -n +$((N / 3 + 1)) "$W/many.jsonl" > "$W/b.jsonl"
"$PB" convert "$W/a.jsonl" -o "$W/src-a" "${NOVAL[@]}" > /dev/null
"$PB" convert "$W/b.jsonl" -o "$W/src-b" "${NOVAL[@]}" > /dev/null

secs() { python3 -c "import sys;print(float(sys.argv[1]) - float(sys.argv[2]))" "$(date +%s.%N)" "$1"; }
rate() { python3 -c "import sys;print(f'{float(sys.argv[1])/float(sys.argv[2]):,.0f}')" "$1" "$2"; }
mb() { du -sb "$@" | awk '{s+=$1} END {printf "%.1f", s/1e6}'; }

rebuild() {  # dir threads -> "records_per_s elapsed peakRSS_KB"
  /usr/bin/time -f '%M' -o "$W/rss" "$PB" index rebuild "$1" -j "$2" --json > "$W/rebuild.json"
  python3 -c "
import json; s=json.load(open('$W/rebuild.json')); print(s['records_per_s'], s['elapsed_s'], open('$W/rss').read().strip())"
}
for archive in many one; do
  files=$(ls "$W/$archive" | grep -c '\.pb\.gz$')
  read -r r_all t_all rss_all < <(rebuild "$W/$archive" "$CORES")
  read -r r_one t_one _ < <(rebuild "$W/$archive" 1)
  printf 'index rebuild (%s: %d day files, %s MB): %s records/s on %d cores (%.2f s, peak RSS %d MB); %s records/s on 1\n' \
    "$archive" "$files" "$(mb "$W/$archive"/*.pb.gz)" "$(rate "$r_all" 1)" "$CORES" "$t_all" $((rss_all / 1024)) "$(rate "$r_one" 1)"
done

t0=$(date +%s.%N)
"$PB" export "$W/many" --no-progress -o "$W/export.jsonl" 2> /dev/null
t=$(secs "$t0")
n=$(wc -l < "$W/export.jsonl")
printf 'export, whole archive (file order): %s events/s, %s MB/s of JSON (%d events, %.2f s)\n' \
  "$(rate "$n" "$t")" "$(rate "$(stat -c %s "$W/export.jsonl")" "$(python3 -c "print($t*1e6)")")" "$n" "$t"
t0=$(date +%s.%N)
"$PB" export "$W/many" --kinds 7 --no-progress -o "$W/export7.jsonl" 2> /dev/null
t=$(secs "$t0")
n=$(wc -l < "$W/export7.jsonl")
printf 'export --kinds 7 (index order, newest first): %s events/s (%d events, %.2f s)\n' "$(rate "$n" "$t")" "$n" "$t"
t0=$(date +%s.%N)
"$PB" export "$W/many" --kinds 30023 --limit 100 --no-progress -o "$W/export-narrow.jsonl" 2> /dev/null
printf 'export --kinds 30023 --limit 100: %.3f s\n' "$(secs "$t0")"

src_mb=$(mb "$W"/src-a/*.pb.gz "$W"/src-b/*.pb.gz)
/usr/bin/time -f '%M' -o "$W/rss" "$PB" merge "$W/merged" "$W/src-a" "$W/src-b" --no-progress \
  --summary-json "$W/merge.json" > /dev/null
python3 - "$W/merge.json" "$src_mb" "$(cat "$W/rss")" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); mb = float(sys.argv[2]); t = s['elapsed_s']
print(f"merge (2 sources, {mb:.1f} MB of day files, {s['total_lines']} records, {s['duplicates']} duplicates): "
      f"{mb / t:.1f} MB/s, {s['total_lines'] / t:,.0f} records/s ({t:.2f} s, peak RSS {int(sys.argv[3]) // 1024} MB)")
PY

t0=$(date +%s.%N)
"$PB" verify "$W/many" --no-progress > /dev/null
t=$(secs "$t0")
printf 'verify (ids, index vs files): %s events/s (%.2f s)\n' "$(rate "$N" "$t")" "$t"
t0=$(date +%s.%N)
"$PB" stats "$W/many" --json > /dev/null
printf 'stats: %.2f s\n' "$(secs "$t0")"
