#!/usr/bin/env bash
# Per-stage CPU accounting of convert and merge: --summary-json carries stages{reader, workers, writer,
# index, compress, process} CPU seconds and stages_us_per_event; every figure is a non-negative number,
# the stages together do not exceed the process's CPU time (they are parts of it), and the human summary
# shows the per-event line. No timing thresholds: only presence, signs and the sum.
source "$(dirname "$0")/lib.sh"

gen 3000 21 --days 3 --duplicate-fraction 0.2 --invalid-fraction 0.02 -o corpus.jsonl
"$PB" convert corpus.jsonl -o a -j 2 --no-progress --summary-json s.json > human.txt
"$PB" merge m a --no-progress --summary-json merge.json > merge.txt

check() {  # summary.json
  python3 - "$1" <<'PY' || fail "stages in $1"
import json, sys
s = json.load(open(sys.argv[1]))
st, us = s["stages"], s["stages_us_per_event"]
keys = ["reader_cpu_s", "workers_cpu_s", "writer_cpu_s", "index_cpu_s", "compress_cpu_s", "process_cpu_s"]
for k in keys:
    assert isinstance(st[k], (int, float)) and st[k] >= 0, (k, st[k])
for k in ["reader", "workers", "writer", "index", "compress", "serial"]:
    assert isinstance(us[k], (int, float)) and us[k] >= 0, (k, us[k])
parts = sum(st[k] for k in keys[:-1])
# The parts are measured per thread, the whole by getrusage; allow rounding (3 decimals each) and clock
# granularity, nothing more.
assert parts <= st["process_cpu_s"] * 1.05 + 0.02, (parts, st["process_cpu_s"])
assert st["workers_cpu_s"] > 0 and st["process_cpu_s"] > 0, st
assert abs(us["serial"] - (us["writer"] + us["index"])) < 0.02, us
PY
}
check s.json
grep -q "CPU per event:" human.txt || fail "human summary lacks the per-stage line"
grep -q "Serial (one thread)" human.txt || fail "human summary lacks the serial ceiling"
check merge.json
grep -q "CPU per event:" merge.txt || fail "merge summary lacks the per-stage line"
pass
