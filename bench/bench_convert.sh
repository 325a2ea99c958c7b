#!/usr/bin/env bash
# End-to-end convert benchmark. Prints, from one run on this machine:
#   - the hardware limit: raw libsecp256k1 verifies/s on one core (x-only key parse + BIP-340 verify)
#   - validated convert events/s on all cores and its ratio to cores x limit
#   - unvalidated convert events/s and MB/s
#   - the speedup on a corpus that is half duplicates vs an all-new one of the same size
#   - peak RSS of each run
# Usage: bench/bench_convert.sh [EVENTS] (default 200000). Needs: scripts/setup.sh done.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
CORES=$(nproc)
scripts/build.sh --release > /dev/null
BIN=build-release/bin
W=$(mktemp -d "${TMPDIR:-/tmp}/pb-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

echo "machine: $CORES cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r)"
echo "corpus: $N events (pb-gen-corpus --seed 1, realistic kind mix), plus $N lines of which half are duplicates"
"$BIN/pb-gen-corpus" -q --events "$N" --seed 1 -o "$W/new.jsonl"
"$BIN/pb-gen-corpus" -q --events "$N" --seed 2 --duplicate-fraction 0.5 -o "$W/half.jsonl"
MB=$(python3 -c "import os;print(os.path.getsize('$W/new.jsonl')/1e6)")

# The limit, measured now: single-thread verifies/s (CPU time of one core, same library and build).
"$BIN/pb_bench" --benchmark_filter='^BM_SchnorrVerify/real_time/threads:1$' --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_format=json > "$W/verify.json" 2>/dev/null
LIMIT=$(python3 -c "
import json; b=json.load(open('$W/verify.json'))['benchmarks']
print([x for x in b if x['name'].endswith('_median')][0]['items_per_second'])")

run() {  # name input [convert options...] -> prints events/s, elapsed, peak RSS (KB)
  local name=$1 input=$2; shift 2
  rm -rf "$W/out-$name"
  /usr/bin/time -f '%M' -o "$W/rss-$name" "$BIN/proton-beam" convert "$input" -o "$W/out-$name" --no-progress \
    --summary-json "$W/$name.json" "$@" > /dev/null
  python3 -c "
import json; s=json.load(open('$W/$name.json'))
print(s['elapsed_s'], s['total_lines'], s['valid'], s['duplicates'], open('$W/rss-$name').read().strip())"
}
read -r t_new lines_new valid_new _ rss_new < <(run validated "$W/new.jsonl")
read -r t_half lines_half valid_half dup_half rss_half < <(run half "$W/half.jsonl")
read -r t_raw lines_raw _ _ rss_raw < <(run unvalidated "$W/new.jsonl" --validate-signatures=false --validate-event-ids=false)
read -r t_l1 _ _ _ _ < <(run level1 "$W/new.jsonl" --compression-level 1)

python3 - "$LIMIT" "$CORES" "$t_new" "$lines_new" "$t_half" "$lines_half" "$dup_half" "$t_raw" "$lines_raw" "$MB" \
  "$rss_new" "$rss_half" "$rss_raw" "$t_l1" <<'PY'
import sys
limit, cores, t_new, n_new, t_half, n_half, dup_half, t_raw, n_raw, mb, rss_new, rss_half, rss_raw, t_l1 = sys.argv[1:]
limit=float(limit); cores=int(cores)
t_new, t_half, t_raw, t_l1, mb = map(float, (t_new, t_half, t_raw, t_l1, mb))
v = int(n_new)/t_new
print(f"raw verify limit:        {limit:,.0f} verifies/s per core  ->  {cores} cores x limit = {cores*limit:,.0f}/s")
print(f"validated convert:       {v:,.0f} events/s  ratio to cores x limit: {v/(cores*limit):.2f}  (peak RSS {int(rss_new)/1024:.0f} MB)")
print(f"  same at level 1:       {int(n_new)/t_l1:,.0f} events/s  ratio: {int(n_new)/t_l1/(cores*limit):.2f}")
print(f"half-duplicate corpus:   {int(n_half)/t_half:,.0f} lines/s ({dup_half} duplicates)  speedup vs all-new: {t_new/t_half:.2f}x  (peak RSS {int(rss_half)/1024:.0f} MB)")
print(f"unvalidated convert:     {int(n_raw)/t_raw:,.0f} events/s, {mb/t_raw:.1f} MB/s of JSON  (peak RSS {int(rss_raw)/1024:.0f} MB)")
PY
