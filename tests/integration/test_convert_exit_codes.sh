#!/usr/bin/env bash
# Exit statuses scripts can trust, each with a one-line error.
source "$(dirname "$0")/lib.sh"

expect_rc() {  # expected-rc description command...
  local want=$1 what=$2; shift 2
  set +e
  "$@" > out.txt 2> err.txt
  local rc=$?
  set -e
  assert_eq "$rc" "$want" "$what (stderr: $(head -c 300 err.txt))"
}
expect_rc 0 "help" "$PB" convert --help
grep -q "Exit status" out.txt || fail "--help does not document exit codes"
expect_rc 1 "missing input" "$PB" convert does-not-exist.jsonl -o o1 --no-progress
grep -q "does-not-exist.jsonl: cannot open" err.txt || fail "unclear error for a missing input"
[ ! -e o1/index.db ] || fail "a missing input must fail before anything is written"
touch blocker
expect_rc 1 "unwritable output" "$PB" convert "$DATA/sample_events.jsonl" -o blocker/sub --no-progress
assert_eq "$(wc -l < err.txt)" 1 "one-line error"
expect_rc 2 "bad option" "$PB" convert "$DATA/sample_events.jsonl" --compression-level 42
expect_rc 2 "no input" "$PB" convert
expect_rc 0 "validate-signatures=false" "$PB" convert "$DATA/sample_events.jsonl" -o o2 --validate-signatures=false --no-progress --summary-json s.json
assert_eq "$(json_get s.json valid)" 141 "valid without signature checks"
pass
