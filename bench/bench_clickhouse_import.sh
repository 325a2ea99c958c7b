#!/usr/bin/env bash
# ClickHouse import benchmark: events/s end to end into a local ClickHouse server (Debian's 18.16,
# started here on loopback), and how the CPU time splits between the importer and the server.
#   1. the importer alone (--dry-run: read, check, encode, gzip; nothing sent): its own ceiling
#   2. full schema (events + tags materialized view), defaults (gzip level 1, 3 batches in flight)
#   3. the same with uncompressed request bodies (--compression-level 0: the better choice on loopback)
#   4. events table only (tags view dropped), uncompressed: what the server's events table costs alone
# CPU time: the importer's from /usr/bin/time, the server's from /proc/PID/stat (utime+stime) before and
# after each run. Both share this machine's cores (and whatever else runs on it); the "CPU-bound ceiling"
# is events / (importer + server CPU seconds) x cores: the rate if both kept every core busy and nothing
# else ran (wall-clock events/s on a busy machine is far below it).
# Usage: bench/bench_clickhouse_import.sh [EVENTS] (default 200000). Needs: scripts/setup.sh done.
# PB_BENCH_BIN=DIR uses already-built binaries instead of building build-release.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
if [ -n "${PB_BENCH_BIN:-}" ]; then BIN=$PB_BENCH_BIN; else
  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DPB_BUILD_BENCH=OFF > /dev/null
  cmake --build build-release -j "$(nproc)" --target proton-beam proton-beam-clickhouse-import pb-gen-corpus > /dev/null
  BIN=build-release/bin
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/pb-bench-ch.XXXXXX")
source tests/clickhouse/ch_server.sh
trap 'ch_stop_all; rm -rf "$W"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$BIN/pb-gen-corpus" -q --events "$N" --seed 1 -o "$W/corpus.jsonl"
"$BIN/proton-beam" convert "$W/corpus.jsonl" -o "$W/archive" --no-progress \
  --validate-signatures=false --validate-event-ids=false > /dev/null
rm "$W/corpus.jsonl"
echo "archive: $N events (pb-gen-corpus --seed 1), $(du -sm "$W/archive" | cut -f1) MB on disk"

ch_start S "$W/ch"
PORT=$CH_HTTP_S
echo "server: ClickHouse $(chq "$PORT" 'SELECT version()')"
clickhouse/bootstrap.sh --host 127.0.0.1 --port "$PORT" 2> /dev/null
TICK=$(getconf CLK_TCK)
server_cpu() { awk -v t="$TICK" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$CH_PID_S/stat"; }

run() {  # name [importer options...]
  local name=$1; shift
  chq "$PORT" 'TRUNCATE TABLE nostr.events'
  chq "$PORT" 'TRUNCATE TABLE nostr.event_tags'
  local s0 s1
  s0=$(server_cpu)
  /usr/bin/time -f '%U %S %M' -o "$W/time" "$BIN/proton-beam-clickhouse-import" --host 127.0.0.1 --port "$PORT" \
    -i "$W/archive" --no-checkpoint --no-progress --summary-json "$W/s.json" "$@" 2> /dev/null
  sleep 0.2  # let the server finish accounting the last insert
  s1=$(server_cpu)
  python3 - "$name" "$W/s.json" "$W/time" "$s0" "$s1" "$(nproc)" <<'PY'
import json, sys
name, sj, tf, s0, s1, cores = sys.argv[1:]
s = json.load(open(sj)); u, k, rss = open(tf).read().split()
imp = float(u) + float(k); srv = float(s1) - float(s0); n = s["events_inserted"]
share = f"importer {100 * imp / (imp + srv):4.1f}% / server {100 * srv / (imp + srv):4.1f}%" if imp + srv else ""
print(f"{name:<34} {n / s['elapsed_s']:>9,.0f} events/s  {s['elapsed_s']:6.2f} s  CPU importer {imp:5.2f} s "
      f"({n / imp:>9,.0f} ev/CPU-s), server {srv:5.2f} s  {share}  RSS {int(rss) // 1024} MB  "
      f"sent {s['bytes_sent'] / 1e6:.0f} MB  CPU-bound ceiling on {cores} idle cores {n / (imp + srv) * int(cores):,.0f} events/s")
PY
}

run "importer alone (--dry-run)" --dry-run
run "full schema, gzip 1 (default)"
run "full schema, uncompressed" --compression-level 0
chq "$PORT" 'DROP TABLE nostr.event_tags_mv'
run "events only, uncompressed" --compression-level 0
run "events only, uncompressed, 20k batch" --compression-level 0 --batch-size 20000
