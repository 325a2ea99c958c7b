#!/usr/bin/env bash
# Query-server benchmark (issue 12). Builds a generated archive with tags (pb-gen-corpus, cached), starts
# `proton-beam serve` on loopback and drives it with bench/serve_load.mjs: C concurrent WebSocket clients,
# each a closed loop over the mix by id; author + kinds, limit 20; #e; #p + kind 7; kind + 1 h window,
# limit 100; global newest 100. Prints queries/s and p50/p99 REQ->EOSE (overall and per type) in default
# mode and with --history, then REST JSONL events/s with --history (POST /api/v1/req, 100,000 events, median
# of three runs after two warm-ups; in default mode every served event also costs the rule look-ups), and
# in default mode how id queries fare while two clients loop a broad COUNT (which decodes every match);
# then default mode with `--inflated-copy` (an uncompressed copy of the day files beside the cache), last
# with that and `--index-mmap-mib 1024` (index.db read through a memory map).
# The load client runs on the same machine and takes part of its CPU; the figures include that cost.
#
# Usage: bench/bench_serve.sh [EVENTS] (default 1000000)
# Env:   PB_BIN (default: scripts/build.sh --release), PB_BENCH_CACHE (generated corpus + archive, reused),
#        PB_BENCH_CLIENTS=50, PB_BENCH_SECONDS=20, PB_BENCH_WORKERS (serve --workers; default: its own),
#        PB_BENCH_SERVE_OPTS="..." extra serve options (e.g. "--cache-bytes 4294967296"),
#        PB_BENCH_MEMBER_KIB (convert --member-kib for the archive, default 64; each size is cached apart)
# Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
CLIENTS=${PB_BENCH_CLIENTS:-50}
SECONDS_RUN=${PB_BENCH_SECONDS:-20}
CACHE=${PB_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/proton-beam/bench-serve}
if [ -n "${PB_BIN:-}" ]; then BIN=$PB_BIN; else scripts/build.sh --release > /dev/null; BIN=build-release/bin; fi
[ -d tests/node/node_modules/ws ] || { echo "run scripts/setup.sh first (needs tests/node/node_modules)" >&2; exit 2; }

mkdir -p "$CACHE"
CORPUS=$CACHE/corpus-$N.jsonl
MEMBER_KIB=${PB_BENCH_MEMBER_KIB:-64}
ARCHIVE=$CACHE/archive-$N-m${MEMBER_KIB}k  # the member size is part of the key: archives before 2026-12 had 1 MiB members
if [ ! -s "$CORPUS" ]; then
  echo "generating $N events (pb-gen-corpus --seed 7, 90 days) ..." >&2
  "$BIN/pb-gen-corpus" -q --events "$N" --seed 7 --days 90 -o "$CORPUS.tmp" && mv "$CORPUS.tmp" "$CORPUS"
fi
# A cached archive from before the current index schema (5) is upgraded the way a user would (index rebuild).
if [ -f "$ARCHIVE/index.db" ] && [ "$(sqlite3 "$ARCHIVE/index.db" 'PRAGMA user_version')" -lt 5 ]; then
  echo "upgrading the cached archive's index (proton-beam index rebuild) ..." >&2
  "$BIN/proton-beam" index rebuild "$ARCHIVE" > /dev/null
fi
if [ ! -f "$ARCHIVE/index.db" ]; then
  echo "converting ..." >&2
  rm -rf "$ARCHIVE"
  "$BIN/proton-beam" convert "$CORPUS" -o "$ARCHIVE" --no-progress --validate-signatures=false \
    --validate-event-ids=false --member-kib "$MEMBER_KIB" > /dev/null
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/pb-bench-serve.XXXXXX")
SERVE_PID=""
cleanup() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

start_serve() {  # options...
  rm -f "$W/ready"
  "$BIN/proton-beam" serve "$ARCHIVE" --listen 127.0.0.1:0 --ready-file "$W/ready" --max-limit 100000 \
    ${PB_BENCH_WORKERS:+--workers "$PB_BENCH_WORKERS"} ${PB_BENCH_SERVE_OPTS:-} "$@" > "$W/serve.log" 2>&1 &
  SERVE_PID=$!
  for _ in $(seq 600); do [ -s "$W/ready" ] && break; sleep 0.1; done
  [ -s "$W/ready" ] || { cat "$W/serve.log" >&2; exit 1; }
  PORT=$(cat "$W/ready")
}
stop_serve() { kill "$SERVE_PID"; wait "$SERVE_PID" || true; SERVE_PID=""; }

peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$SERVE_PID/status"; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system, in clock ticks

load() {  # label
  local t0 c0 t1 c1
  t0=$(date +%s.%N); c0=$(cpu_ticks "$SERVE_PID")
  /usr/bin/time -f '%U %S' -o "$W/client.cpu" node bench/serve_load.mjs --url "ws://127.0.0.1:$PORT" \
    --corpus "$CORPUS" --clients "$CLIENTS" --seconds "$SECONDS_RUN" > "$W/load.json"
  t1=$(date +%s.%N); c1=$(cpu_ticks "$SERVE_PID")
  python3 - "$1" "$W/load.json" "$(peak_rss_mb)" "$t0" "$t1" "$c0" "$c1" "$(getconf CLK_TCK)" "$W/client.cpu" <<'EOF'
import json, sys
label, path, rss = sys.argv[1], sys.argv[2], sys.argv[3]
wall = float(sys.argv[5]) - float(sys.argv[4])
serve_cores = (int(sys.argv[7]) - int(sys.argv[6])) / int(sys.argv[8]) / wall
client_cores = sum(map(float, open(sys.argv[9]).read().split())) / wall
r = json.load(open(path))
print(f"{label}: {r['queries_per_s']:.0f} queries/s with {r['clients']} clients "
      f"(target >= 3000: ratio {r['queries_per_s']/3000:.2f}); REQ->EOSE p50 {r['p50_ms']:.2f} ms, "
      f"p99 {r['p99_ms']:.2f} ms; {r['events_received']} events; {r['errors']} CLOSED/NOTICE; serve peak RSS {rss} MB; "
      f"CPU: serve {serve_cores:.2f} cores, load client {client_cores:.2f} (of {__import__('os').cpu_count()})")
for name, t in r['per_type'].items():
    if t['queries']:
        print(f"    {name:<13} {t['queries']:>7} queries  p50 {t['p50_ms']:7.2f} ms  p99 {t['p99_ms']:7.2f} ms")
if r['errors']: print("    error samples:", r['error_samples'])
EOF
}

jsonl() {  # label
  local body='[{"limit":100000}]' out=$W/req.jsonl code t times=()
  # Two warm-up runs (the member cache, and each worker's heap: consecutive requests go to different
  # workers), then three measured runs; the median is reported.
  for _ in 1 2; do curl -s -o /dev/null -X POST --data "$body" "http://127.0.0.1:$PORT/api/v1/req"; done
  for _ in 1 2 3; do
    read -r code t < <(curl -s -o "$out" -w '%{http_code} %{time_total}\n' -X POST --data "$body" \
      "http://127.0.0.1:$PORT/api/v1/req")
    if [ "$code" != 200 ]; then echo "$1: REST JSONL refused: HTTP $code $(head -c 200 "$out")"; return; fi
    times+=("$t")
  done
  python3 - "$1" "$out" "${times[@]}" <<'EOF2'
import os, statistics, sys
label, path, times = sys.argv[1], sys.argv[2], sorted(float(t) for t in sys.argv[3:])
t = statistics.median(times)
n = sum(1 for _ in open(path))
print(f"{label}: REST JSONL {n} events in {t:.2f} s (median of {', '.join(f'{x:.2f}' for x in times)}) = {n/t:,.0f} events/s "
      f"(target >= 100,000: ratio {n/t/1e5:.2f}), {os.path.getsize(path)/t/1e6:.0f} MB/s")
EOF2
}

broad_counts() {  # label: id queries (8 clients, 10 s) while two clients loop a broad default-mode COUNT
  local body='[{"kinds":[7]}]' end=$((SECONDS + 13)) pids=()
  for c in 1 2; do
    (while [ $SECONDS -lt $end ]; do
       curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X POST --data "$body" "http://127.0.0.1:$PORT/api/v1/count"
     done > "$W/count$c") &
    pids+=($!)
  done
  node bench/serve_load.mjs --url "ws://127.0.0.1:$PORT" --corpus "$CORPUS" --clients 8 --seconds 10 --warmup 1 \
    --types id > "$W/ids.json"
  wait "${pids[@]}"
  python3 - "$1" "$W/ids.json" "$W/count1" "$W/count2" <<'EOF3'
import json, sys
label, path, counts = sys.argv[1], sys.argv[2], sys.argv[3:]
t = json.load(open(path))['per_type']['id']
runs = [l.split() for f in counts for l in open(f) if l.strip()]
ok = [float(s) for code, s in runs if code == '200']
print(f"{label}: while 2 clients loop COUNT {{kinds:[7]}} ({len(ok)} done, {sum(ok)/max(len(ok),1):.2f} s each, "
      f"{len(runs)-len(ok)} refused), 8 clients by id: {t['queries']} answers in 10 s, "
      f"p50 {t['p50_ms']:.2f} ms, p99 {t['p99_ms']:.2f} ms, max {t['max_ms']:.0f} ms")
EOF3
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); archive: $N generated events, $(du -sh "$ARCHIVE" | cut -f1)"
start_serve
load "default mode"
broad_counts "default mode"
stop_serve
start_serve --history
load "--history"
jsonl "--history"
stop_serve
# Default mode again, reading cache misses from an uncompressed copy of the day files (--inflated-copy,
# kept in the cache folder: made on the first run, then only checked).
COPY=$ARCHIVE-inflated-copy
start_serve --inflated-copy "$COPY"
for _ in $(seq 600); do
  curl -s "http://127.0.0.1:$PORT/metrics" | grep -q '^pb_serve_inflated_copy_refreshes_total [1-9]' && break
  sleep 0.5
done
grep -m1 'inflated copy' "$W/serve.log" | sed 's/^.*serve: /    /'
load "default mode, --inflated-copy"
broad_counts "default mode, --inflated-copy"
stop_serve
# And with index.db read through a memory map as well (--index-mmap-mib): the fastest setup serve has.
start_serve --inflated-copy "$COPY" --index-mmap-mib 1024
load "default mode, --inflated-copy --index-mmap-mib 1024"
stop_serve
